import { Type } from "typebox";
import type { Json } from "../../core/model.js";
import { RUN_STATUSES, STOP_REASONS } from "../../core/run-lifecycle.js";
import { LIMITS } from "../../core/validate.js";
import { JsonObject, Nullable, NullableTimestamp, PageQuery, StringEnum, Tags, Timestamp, id } from "./common.js";

export const RunStatusSchema = StringEnum(RUN_STATUSES);
export const StopReasonSchema = StringEnum(STOP_REASONS);

export const Run = Type.Object(
  {
    id: id("run"),
    agent_id: id("agent"),
    status: RunStatusSchema,
    stop_reason: Nullable(StopReasonSchema),
    created_at: Timestamp,
    updated_at: Timestamp,
    completed_at: NullableTimestamp,
    background: Type.Boolean(),
    metadata: JsonObject,
    request_config: Nullable(JsonObject),
    conversation_id: Nullable(Type.String()),
    project_id: Nullable(Type.String()),
    base_template_id: Nullable(Type.String()),
    callback_url: Nullable(Type.String()),
    callback_sent_at: NullableTimestamp,
    callback_status_code: Nullable(Type.Integer()),
    callback_error: Nullable(Type.String()),
    ttft_ns: Nullable(Type.Integer()),
    total_duration_ns: Nullable(Type.Integer()),
    started_at: NullableTimestamp,
    last_heartbeat_at: NullableTimestamp,
    cancel_requested_at: NullableTimestamp,
    error: Nullable(Type.Object({ type: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) })),
    tags: Type.Array(Type.String()),
    idempotency_key: Nullable(Type.String()),
    ttl_s: Nullable(Type.Integer()),
    max_duration_s: Nullable(Type.Integer()),
    heartbeat_timeout_s: Nullable(Type.Integer()),
    deleted_at: NullableTimestamp,
  },
  { $id: "Run" },
);

export const RunMetrics = Type.Object(
  {
    id: id("run"),
    agent_id: id("agent"),
    project_id: Nullable(Type.String()),
    base_template_id: Nullable(Type.String()),
    run_start_ns: Type.Integer(),
    run_ns: Nullable(Type.Integer()),
    num_steps: Type.Integer(),
    tools_used: Type.Array(Type.String()),
    prompt_tokens: Type.Integer(),
    completion_tokens: Type.Integer(),
    total_tokens: Type.Integer(),
    cached_input_tokens: Nullable(Type.Integer()),
    cache_write_tokens: Nullable(Type.Integer()),
    reasoning_tokens: Nullable(Type.Integer()),
  },
  { $id: "RunMetrics" },
);

export const Usage = Type.Object(
  {
    completion_tokens: Type.Integer(),
    prompt_tokens: Type.Integer(),
    total_tokens: Type.Integer(),
    step_count: Type.Integer(),
    cached_input_tokens: Nullable(Type.Integer()),
    cache_write_tokens: Nullable(Type.Integer()),
    reasoning_tokens: Nullable(Type.Integer()),
    prompt_tokens_details: Type.Object({
      cached_tokens: Nullable(Type.Integer()),
      cache_read_tokens: Nullable(Type.Integer()),
      cache_creation_tokens: Nullable(Type.Integer()),
    }),
    completion_tokens_details: Type.Object({ reasoning_tokens: Nullable(Type.Integer()) }),
  },
  { $id: "Usage" },
);

const seconds = (description: string) => Type.Optional(Nullable(Type.Integer({ minimum: 1, description })));

export const RunCreateBody = Type.Object(
  {
    agent_id: Type.String({ description: "The agent the run belongs to (must exist in the organization)" }),
    background: Type.Optional(Nullable(Type.Boolean())),
    metadata: Type.Optional(Nullable(JsonObject)),
    request_config: Type.Optional(Nullable(JsonObject)),
    conversation_id: Type.Optional(Nullable(Type.String({ maxLength: LIMITS.shortText }))),
    project_id: Type.Optional(Nullable(Type.String({ maxLength: LIMITS.shortText }))),
    base_template_id: Type.Optional(Nullable(Type.String({ maxLength: LIMITS.shortText }))),
    callback_url: Type.Optional(Nullable(Type.String({ maxLength: LIMITS.url, description: "http(s) URL that receives a webhook when the run ends" }))),
    tags: Type.Optional(Nullable(Tags)),
    ttl_s: seconds("Seconds the run may wait in created before it fails as expired"),
    max_duration_s: seconds("Seconds the run may take before it fails as timed_out"),
    heartbeat_timeout_s: seconds("Seconds without a heartbeat before the run fails as heartbeat_lost"),
    idempotency_key: Type.Optional(Nullable(Type.String({ maxLength: LIMITS.name }))),
  },
  { additionalProperties: false },
);

export const RunUpdateBody = Type.Object(
  {
    status: Type.Optional(Nullable(RunStatusSchema)),
    stop_reason: Type.Optional(Nullable(StopReasonSchema)),
    metadata: Type.Optional(Nullable(JsonObject)),
    completed_at: Type.Optional(Nullable(Type.String({ description: "ISO 8601 timestamp" }))),
    total_duration_ns: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))),
    ttft_ns: Type.Optional(Nullable(Type.Integer({ minimum: 0 }))),
    error: Type.Optional(
      Nullable(
        Type.Object(
          { type: Type.String({ maxLength: LIMITS.name }), message: Type.String({ maxLength: 16384 }), details: Type.Optional(Type.Unsafe<Json>({})) },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);

export const RunListQuery = Type.Object(
  {
    agent_id: Type.Optional(Type.String()),
    agent_ids: Type.Optional(Type.Array(Type.String(), { maxItems: LIMITS.pageMax })),
    statuses: Type.Optional(Type.Array(RunStatusSchema, { maxItems: 5 })),
    active: Type.Optional(Type.Boolean()),
    background: Type.Optional(Type.Boolean()),
    stop_reason: Type.Optional(StopReasonSchema),
    conversation_id: Type.Optional(Type.String({ maxLength: LIMITS.shortText })),
    project_id: Type.Optional(Type.String({ maxLength: LIMITS.shortText })),
    tags: Type.Optional(Type.Array(Type.String({ maxLength: LIMITS.tag }), { maxItems: LIMITS.tags, description: "Runs carrying every tag" })),
    created_after: Type.Optional(Type.String({ description: "ISO 8601 timestamp (exclusive)" })),
    created_before: Type.Optional(Type.String({ description: "ISO 8601 timestamp (exclusive)" })),
    step_count: Type.Optional(Type.Integer({ minimum: 0 })),
    step_count_operator: Type.Optional(StringEnum(["eq", "gte", "lte"] as const)),
    tools_used: Type.Optional(Type.Array(Type.String({ maxLength: LIMITS.name }), { maxItems: LIMITS.tags, description: "Runs that used any of these tools" })),
    duration_value: Type.Optional(Type.Integer({ minimum: 0, description: "Nanoseconds, compared with total_duration_ns" })),
    duration_operator: Type.Optional(StringEnum(["gt", "lt", "eq"] as const)),
    duration_percentile: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: "Runs at or above this duration percentile" })),
    order_by: Type.Optional(StringEnum(["created_at", "duration"] as const)),
    ascending: Type.Optional(Type.Boolean({ deprecated: true, description: "Deprecated: use order" })),
    ...PageQuery,
  },
  { additionalProperties: false },
);

export const ActiveRunsQuery = Type.Object(
  { agent_id: Type.Optional(Type.String()), background: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
