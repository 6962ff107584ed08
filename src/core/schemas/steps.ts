/** What producers report about steps, and the steps lists' queries. */
import { Type } from "typebox";
import { FEEDBACK_VALUES, FINISHED_STEP_STATUSES, STEP_STATUSES } from "../model.js";
import { LIMITS } from "../validate.js";
import { JsonObject, Nullable, PageQuery, StringEnum, Tags } from "./common.js";
import { StopReasonSchema } from "./runs.js";

export const StepStatusSchema = StringEnum(STEP_STATUSES);
export const FeedbackSchema = StringEnum(FEEDBACK_VALUES);

const optionalText = () => Type.Optional(Nullable(Type.String({ maxLength: LIMITS.shortText })));
const optionalCount = (maximum: number) => Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum })));
const tokens = () => optionalCount(LIMITS.tokens);
const nanoseconds = () => optionalCount(LIMITS.int64);

/** The figures a producer reports when recording a step and again when finishing it. */
const reported = {
  stop_reason: Type.Optional(Nullable(StopReasonSchema)),
  provider_name: optionalText(),
  provider_category: optionalText(),
  provider_id: optionalText(),
  model: optionalText(),
  model_endpoint: optionalText(),
  model_handle: optionalText(),
  prompt_tokens: tokens(),
  completion_tokens: tokens(),
  total_tokens: tokens(),
  cached_input_tokens: tokens(),
  cache_write_tokens: tokens(),
  reasoning_tokens: tokens(),
  prompt_tokens_details: Type.Optional(Nullable(JsonObject)),
  completion_tokens_details: Type.Optional(Nullable(JsonObject)),
  error_type: optionalText(),
  error_data: Type.Optional(Nullable(JsonObject)),
  trace_id: optionalText(),
  request_id: optionalText(),
  llm_request_start_ns: nanoseconds(),
  llm_request_ns: nanoseconds(),
  tool_execution_ns: nanoseconds(),
  step_start_ns: nanoseconds(),
  step_ns: nanoseconds(),
};

export const StepRecordSchema = Type.Object(
  {
    id: Type.Optional(Nullable(Type.String({ description: "step-<uuid v4>; assigned when absent" }))),
    status: Type.Optional(Nullable(StepStatusSchema)),
    context_window_limit: optionalCount(LIMITS.int32),
    tags: Type.Optional(Nullable(Tags)),
    ...reported,
  },
  { additionalProperties: false },
);

export const StepFinishSchema = Type.Object({ status: StringEnum(FINISHED_STEP_STATUSES), ...reported }, { additionalProperties: false });

export const StepListSchema = Type.Object(
  {
    agent_id: Type.Optional(Type.String()),
    model: Type.Optional(Type.String({ maxLength: LIMITS.shortText })),
    feedback: Type.Optional(FeedbackSchema),
    has_feedback: Type.Optional(Type.Boolean()),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: LIMITS.tag }), { maxItems: LIMITS.tags })),
    trace_ids: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: LIMITS.name }), { maxItems: LIMITS.pageMax })),
    project_id: Type.Optional(Type.String({ maxLength: LIMITS.shortText })),
    start_date: Type.Optional(Type.String({ description: "ISO 8601 timestamp (inclusive)" })),
    end_date: Type.Optional(Type.String({ description: "ISO 8601 timestamp (inclusive)" })),
    order_by: Type.Optional(StringEnum(["created_at"] as const)),
    ...PageQuery,
  },
  { additionalProperties: false },
);

export const RunStepsSchema = Type.Object({ ...PageQuery, order_by: Type.Optional(StringEnum(["created_at"] as const)) }, { additionalProperties: false });

export const FeedbackSetSchema = Type.Object(
  { feedback: Type.Optional(Nullable(FeedbackSchema)), tags: Type.Optional(Nullable(Tags)) },
  { additionalProperties: false },
);
