import { Type } from "typebox";
import { LIMITS } from "../../core/validate.js";
import { Nullable, NullableTimestamp, StringEnum, Timestamp, id } from "./common.js";

const Role = StringEnum(["admin", "write", "read"] as const);

export const ApiKey = Type.Object(
  {
    id: id("key"),
    organization_id: id("org"),
    name: Type.String(),
    role: Role,
    is_superuser: Type.Boolean(),
    prefix: Type.String({ description: "The visible start of the key, for telling keys apart" }),
    created_at: Timestamp,
    last_used_at: NullableTimestamp,
    revoked_at: NullableTimestamp,
  },
  { $id: "ApiKey" },
);

export const CreatedApiKey = Type.Object(
  { ...ApiKey.properties, key: Type.String({ description: "The secret: shown once, never again" }) },
  { $id: "CreatedApiKey" },
);

export const ApiKeyCreateBody = Type.Object(
  {
    name: Type.Optional(Nullable(Type.String({ maxLength: LIMITS.name }))),
    role: Type.Optional(Nullable(Role)),
    organization_id: Type.Optional(Nullable(Type.String({ description: "Superuser only: the organization to create the key in" }))),
  },
  { additionalProperties: false },
);

export const ApiKeyListQuery = Type.Object({ organization_id: Type.Optional(Type.String()) }, { additionalProperties: false });

export const Organization = Type.Object({ id: id("org"), name: Type.String(), created_at: Timestamp }, { $id: "Organization" });

export const OrganizationCreateBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: LIMITS.name }) }, { additionalProperties: false });
