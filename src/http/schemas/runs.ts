/** The run as the API returns it, its metrics row and its usage. */
import { Type } from "typebox";
import { JsonObject, Nullable, NullableTimestamp, Timestamp, id } from "../../core/schemas/common.js";
import { RunStatusSchema, StopReasonSchema } from "../../core/schemas/runs.js";

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
