/** What callers send about runs: creation, updates, and the list's filters (shared by stats and bulk actions). */
import { Type } from "typebox";
import { STATS_BUCKETS, STATS_GROUPS, type Json } from "../model.js";
import { RUN_STATUSES, STOP_REASONS } from "../run-lifecycle.js";
import { LIMITS } from "../validate.js";
import { JsonObject, Nullable, PageQuery, StringEnum, Tags } from "./common.js";

export const RunStatusSchema = StringEnum(RUN_STATUSES);
export const StopReasonSchema = StringEnum(STOP_REASONS);

const A_WEEK_S = 7 * 24 * 3600;
const seconds = (max: number, description: string) => Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: max, description })));

export const RunCreateSchema = Type.Object(
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
    ttl_s: seconds(A_WEEK_S, "Seconds the run may wait in created before it fails as expired"),
    max_duration_s: seconds(30 * A_WEEK_S, "Seconds the run may take before it fails as timed_out"),
    heartbeat_timeout_s: seconds(A_WEEK_S, "Seconds without a heartbeat before the run fails as heartbeat_lost"),
    idempotency_key: Type.Optional(Nullable(Type.String({ maxLength: LIMITS.name }))),
  },
  { additionalProperties: false },
);

export const RunErrorSchema = Type.Object(
  { type: Type.String({ maxLength: LIMITS.name }), message: Type.String({ maxLength: 16384 }), details: Type.Optional(Type.Unsafe<Json>({})) },
  { additionalProperties: false },
);

export const RunUpdateSchema = Type.Object(
  {
    status: Type.Optional(Nullable(RunStatusSchema)),
    stop_reason: Type.Optional(Nullable(StopReasonSchema)),
    metadata: Type.Optional(Nullable(JsonObject)),
    completed_at: Type.Optional(Nullable(Type.String({ description: "ISO 8601 timestamp" }))),
    total_duration_ns: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: LIMITS.int64 }))),
    ttft_ns: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: LIMITS.int64 }))),
    error: Type.Optional(Nullable(RunErrorSchema)),
  },
  { additionalProperties: false },
);

/**
 * The filters of the run list, also taken by statistics and bulk actions. Like every query
 * these take no nulls: a caller's null means "not given" and is dropped before the check.
 */
const RunFilterFields = {
  agent_id: Type.Optional(Type.String()),
  agent_ids: Type.Optional(Type.Array(Type.String(), { maxItems: LIMITS.pageMax })),
  statuses: Type.Optional(Type.Array(RunStatusSchema, { maxItems: RUN_STATUSES.length })),
  active: Type.Optional(Type.Boolean()),
  background: Type.Optional(Type.Boolean()),
  stop_reason: Type.Optional(StopReasonSchema),
  conversation_id: Type.Optional(Type.String({ maxLength: LIMITS.shortText })),
  project_id: Type.Optional(Type.String({ maxLength: LIMITS.shortText })),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: LIMITS.tag }), { maxItems: LIMITS.tags, description: "Runs carrying every tag" })),
  created_after: Type.Optional(Type.String({ description: "ISO 8601 timestamp (exclusive)" })),
  created_before: Type.Optional(Type.String({ description: "ISO 8601 timestamp (exclusive)" })),
  step_count: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.int32 })),
  step_count_operator: Type.Optional(StringEnum(["eq", "gte", "lte"] as const)),
  tools_used: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: LIMITS.name }), { maxItems: LIMITS.tags, description: "Runs that used any of these tools" }),
  ),
  duration_value: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.int64, description: "Nanoseconds, compared with total_duration_ns" })),
  duration_operator: Type.Optional(StringEnum(["gt", "lt", "eq"] as const)),
};

export const RunListSchema = Type.Object(
  {
    ...RunFilterFields,
    duration_percentile: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: "Runs at or above this duration percentile" })),
    order_by: Type.Optional(StringEnum(["created_at", "duration"] as const)),
    ascending: Type.Optional(Type.Boolean({ deprecated: true, description: "Deprecated: use order" })),
    ...PageQuery,
  },
  { additionalProperties: false },
);

export const ActiveRunsSchema = Type.Object(
  { agent_id: Type.Optional(Type.String()), background: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

export const RunStatsSchema = Type.Object(
  {
    ...RunFilterFields,
    group_by: Type.Optional(StringEnum(STATS_GROUPS)),
    bucket: Type.Optional(StringEnum(STATS_BUCKETS, { description: "Time buckets of created_at (UTC)" })),
  },
  { additionalProperties: false },
);

export const BulkSchema = Type.Object(
  { ...RunFilterFields, dry_run: Type.Optional(Type.Boolean({ description: "Count what would change, change nothing" })) },
  { additionalProperties: false },
);
