import { Type } from "typebox";
import { LIMITS } from "../../core/validate.js";
import { JsonObject, Nullable, PageQuery, StringEnum, Tags, Timestamp, id } from "./common.js";
import { StopReasonSchema } from "./runs.js";

const StepStatus = StringEnum(["pending", "success", "failed", "cancelled"] as const);
const FeedbackSchema = StringEnum(["positive", "negative"] as const);
const text = () => Nullable(Type.String());
const count = () => Type.Integer();
const nullableCount = () => Nullable(Type.Integer());

export const Step = Type.Object(
  {
    id: id("step"),
    run_id: id("run"),
    agent_id: id("agent"),
    project_id: text(),
    status: StepStatus,
    stop_reason: Nullable(StopReasonSchema),
    provider_name: text(),
    provider_category: text(),
    provider_id: text(),
    model: text(),
    model_endpoint: text(),
    model_handle: text(),
    context_window_limit: nullableCount(),
    prompt_tokens: count(),
    completion_tokens: count(),
    total_tokens: count(),
    cached_input_tokens: nullableCount(),
    cache_write_tokens: nullableCount(),
    reasoning_tokens: nullableCount(),
    prompt_tokens_details: Nullable(JsonObject),
    completion_tokens_details: Nullable(JsonObject),
    error_type: text(),
    error_data: Nullable(JsonObject),
    feedback: Nullable(FeedbackSchema),
    tags: Type.Array(Type.String()),
    trace_id: text(),
    request_id: text(),
    created_at: Timestamp,
    updated_at: Timestamp,
    llm_request_start_ns: nullableCount(),
    llm_request_ns: nullableCount(),
    tool_execution_ns: nullableCount(),
    step_start_ns: nullableCount(),
    step_ns: nullableCount(),
  },
  { $id: "Step" },
);

export const StepMetrics = Type.Object(
  {
    id: id("step"),
    run_id: id("run"),
    agent_id: id("agent"),
    project_id: text(),
    provider_id: text(),
    llm_request_start_ns: nullableCount(),
    llm_request_ns: nullableCount(),
    tool_execution_ns: nullableCount(),
    step_start_ns: nullableCount(),
    step_ns: nullableCount(),
  },
  { $id: "StepMetrics" },
);

const optionalText = () => Type.Optional(Nullable(Type.String({ maxLength: LIMITS.shortText })));
const optionalCount = () => Type.Optional(Nullable(Type.Integer({ minimum: 0 })));

const reported = {
  stop_reason: Type.Optional(Nullable(StopReasonSchema)),
  provider_name: optionalText(),
  provider_category: optionalText(),
  provider_id: optionalText(),
  model: optionalText(),
  model_endpoint: optionalText(),
  model_handle: optionalText(),
  prompt_tokens: optionalCount(),
  completion_tokens: optionalCount(),
  total_tokens: optionalCount(),
  cached_input_tokens: optionalCount(),
  cache_write_tokens: optionalCount(),
  reasoning_tokens: optionalCount(),
  prompt_tokens_details: Type.Optional(Nullable(JsonObject)),
  completion_tokens_details: Type.Optional(Nullable(JsonObject)),
  error_type: optionalText(),
  error_data: Type.Optional(Nullable(JsonObject)),
  trace_id: optionalText(),
  request_id: optionalText(),
  llm_request_start_ns: optionalCount(),
  llm_request_ns: optionalCount(),
  tool_execution_ns: optionalCount(),
  step_start_ns: optionalCount(),
  step_ns: optionalCount(),
};

export const StepCreateBody = Type.Object(
  {
    id: Type.Optional(Nullable(Type.String({ description: "step-<uuid v4>; assigned when absent" }))),
    status: Type.Optional(Nullable(StepStatus)),
    context_window_limit: optionalCount(),
    tags: Type.Optional(Nullable(Tags)),
    ...reported,
  },
  { additionalProperties: false },
);

export const StepFinishBody = Type.Object(
  { status: StringEnum(["success", "failed", "cancelled"] as const), ...reported },
  { additionalProperties: false },
);

export const StepListQuery = Type.Object(
  {
    agent_id: Type.Optional(Type.String()),
    model: Type.Optional(Type.String({ maxLength: LIMITS.shortText })),
    feedback: Type.Optional(FeedbackSchema),
    has_feedback: Type.Optional(Type.Boolean()),
    tags: Type.Optional(Type.Array(Type.String({ maxLength: LIMITS.tag }), { maxItems: LIMITS.tags })),
    trace_ids: Type.Optional(Type.Array(Type.String({ maxLength: LIMITS.name }), { maxItems: LIMITS.pageMax })),
    project_id: Type.Optional(Type.String({ maxLength: LIMITS.shortText })),
    start_date: Type.Optional(Type.String({ description: "ISO 8601 timestamp (inclusive)" })),
    end_date: Type.Optional(Type.String({ description: "ISO 8601 timestamp (inclusive)" })),
    order_by: Type.Optional(StringEnum(["created_at"] as const)),
    ...PageQuery,
  },
  { additionalProperties: false },
);

export const RunStepsQuery = Type.Object({ ...PageQuery, order_by: Type.Optional(StringEnum(["created_at"] as const)) }, { additionalProperties: false });

export const FeedbackBody = Type.Object(
  { feedback: Type.Optional(Nullable(FeedbackSchema)), tags: Type.Optional(Nullable(Tags)) },
  { additionalProperties: false },
);
