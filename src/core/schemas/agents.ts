/** Registering, changing and listing agents, and cancelling an agent's runs. */
import { Type } from "typebox";
import { LIMITS } from "../validate.js";
import { JsonObject, Nullable, PageQuery } from "./common.js";

export const AgentCreateSchema = Type.Object(
  {
    id: Type.Optional(Nullable(Type.String({ description: "agent-<uuid v4>, to register an existing agent id" }))),
    name: Type.String({ minLength: 1, maxLength: LIMITS.name }),
    metadata: Type.Optional(Nullable(JsonObject)),
  },
  { additionalProperties: false },
);

export const AgentUpdateSchema = Type.Object(
  { name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: LIMITS.name }))), metadata: Type.Optional(Nullable(JsonObject)) },
  { additionalProperties: false },
);

export const AgentListSchema = Type.Object({ ...PageQuery, name: Type.Optional(Type.String({ maxLength: LIMITS.name })) }, { additionalProperties: false });

export const AgentCancelSchema = Type.Object(
  { run_ids: Type.Optional(Nullable(Type.Array(Type.String(), { maxItems: LIMITS.pageMax }))) },
  { additionalProperties: false },
);
