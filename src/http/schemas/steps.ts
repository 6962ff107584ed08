/** The step as the API returns it, and Letta's step metrics view. */
import { Type } from "typebox";
import { JsonObject, Nullable, Timestamp, id } from "../../core/schemas/common.js";
import { StopReasonSchema } from "../../core/schemas/runs.js";
import { FeedbackSchema, StepStatusSchema } from "../../core/schemas/steps.js";
const text = () => Nullable(Type.String());
const count = () => Type.Integer();
const nullableCount = () => Nullable(Type.Integer());

export const Step = Type.Object(
  {
    id: id("step"),
    run_id: id("run"),
    agent_id: id("agent"),
    project_id: text(),
    status: StepStatusSchema,
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
