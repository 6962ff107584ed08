/** API keys, organizations, retention policies and the audit log's query. */
import { Type } from "typebox";
import { ROLES } from "../model.js";
import { TERMINAL_STATUSES } from "../run-lifecycle.js";
import { LIMITS } from "../validate.js";
import { Nullable, StringEnum } from "./common.js";

export const RoleSchema = StringEnum(ROLES);

export const ApiKeyCreateSchema = Type.Object(
  {
    name: Type.Optional(Nullable(Type.String({ maxLength: LIMITS.name }))),
    role: Type.Optional(Nullable(RoleSchema)),
    organization_id: Type.Optional(Nullable(Type.String({ description: "Superuser only: the organization to create the key in" }))),
  },
  { additionalProperties: false },
);

export const ApiKeyListSchema = Type.Object({ organization_id: Type.Optional(Type.String()) }, { additionalProperties: false });

export const OrganizationCreateSchema = Type.Object({ name: Type.String({ minLength: 1, maxLength: LIMITS.name }) }, { additionalProperties: false });

const MAX_DAYS = 36_500;
const days = (minimum: number, description?: string) => Type.Integer({ minimum, maximum: MAX_DAYS, ...(description === undefined ? {} : { description }) });

export const StatusDaysSchema = Type.Object(
  Object.fromEntries(TERMINAL_STATUSES.map((status) => [status, Type.Optional(days(1))])),
  { additionalProperties: false, description: "Per-status overrides of terminal_days" },
);

export const RetentionPolicySchema = Type.Object(
  {
    terminal_days: Type.Optional(Nullable(days(1, "Delete ended runs this many days after they ended; null keeps them"))),
    status_days: Type.Optional(Nullable(StatusDaysSchema)),
    soft_deleted_grace_days: Type.Optional(Nullable(days(0, "Purge soft-deleted runs after this many days; null uses the server default"))),
  },
  { additionalProperties: false },
);

export const AuditListSchema = Type.Object(
  {
    action: Type.Optional(Type.String({ maxLength: LIMITS.name, description: "e.g. run.create, run.update, run.cancel, api_key.revoke" })),
    run_id: Type.Optional(Type.String()),
    api_key_id: Type.Optional(Type.String()),
    since: Type.Optional(Type.String({ description: "ISO 8601 timestamp (inclusive)" })),
    until: Type.Optional(Type.String({ description: "ISO 8601 timestamp (inclusive)" })),
    before: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.int64, description: "The id of the last entry of the previous page" })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.pageMax })),
  },
  { additionalProperties: false },
);
