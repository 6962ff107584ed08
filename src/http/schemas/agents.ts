import { Type } from "typebox";
import { LIMITS } from "../../core/validate.js";
import { JsonObject, Nullable, NullableTimestamp, PageQuery, Timestamp, id } from "./common.js";
import { StopReasonSchema } from "./runs.js";

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

export const AgentCreateBody = Type.Object(
  {
    id: Type.Optional(Nullable(Type.String({ description: "agent-<uuid v4>, to register an existing agent id" }))),
    name: Type.String({ minLength: 1, maxLength: LIMITS.name }),
    metadata: Type.Optional(Nullable(JsonObject)),
  },
  { additionalProperties: false },
);

export const AgentUpdateBody = Type.Object(
  { name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: LIMITS.name }))), metadata: Type.Optional(Nullable(JsonObject)) },
  { additionalProperties: false },
);

export const AgentListQuery = Type.Object({ ...PageQuery, name: Type.Optional(Type.String({ maxLength: LIMITS.name })) }, { additionalProperties: false });

export const AgentCancelBody = Type.Object(
  { run_ids: Type.Optional(Nullable(Type.Array(Type.String(), { maxItems: LIMITS.pageMax }))) },
  { additionalProperties: false },
);
