import { Type } from "typebox";
import { RoleSchema } from "../../core/schemas/admin.js";
import { NullableTimestamp, Timestamp, id } from "../../core/schemas/common.js";

export const ApiKey = Type.Object(
  {
    id: id("key"),
    organization_id: id("org"),
    name: Type.String(),
    role: RoleSchema,
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

export const Organization = Type.Object({ id: id("org"), name: Type.String(), created_at: Timestamp }, { $id: "Organization" });
