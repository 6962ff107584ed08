import { Type } from "typebox";
import { JsonObject, Nullable, NullableTimestamp, Timestamp, id } from "../../core/schemas/common.js";
import { StopReasonSchema } from "../../core/schemas/runs.js";

export const Agent = Type.Object(
  {
    id: id("agent"),
    name: Type.String(),
    metadata: JsonObject,
    created_at: Timestamp,
    updated_at: Timestamp,
    last_stop_reason: Nullable(StopReasonSchema),
    last_run_completion: NullableTimestamp,
    last_run_duration_ms: Nullable(Type.Integer()),
  },
  { $id: "Agent" },
);
