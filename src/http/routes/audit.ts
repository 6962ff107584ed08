import type { FastifyInstance } from "fastify";
import { type Static, Type } from "typebox";
import { LIMITS } from "../../core/validate.js";
import type { Ledger } from "../../ledger.js";
import { errorResponses, JsonObject, Nullable } from "../schemas/common.js";

const AuditQuery = Type.Object(
  {
    action: Type.Optional(Type.String({ maxLength: LIMITS.name, description: "e.g. run.create, run.update, run.cancel, api_key.revoke" })),
    run_id: Type.Optional(Type.String()),
    api_key_id: Type.Optional(Type.String()),
    since: Type.Optional(Type.String({ description: "ISO 8601 timestamp (inclusive)" })),
    until: Type.Optional(Type.String({ description: "ISO 8601 timestamp (inclusive)" })),
    before: Type.Optional(Type.Integer({ minimum: 1, description: "The id of the last entry of the previous page" })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.pageMax })),
  },
  { additionalProperties: false },
);

const AuditEntry = Type.Object({
  id: Type.Integer(),
  api_key_id: Nullable(Type.String({ description: "null for in-process callers and runledger's own workers" })),
  action: Type.String(),
  run_id: Nullable(Type.String()),
  target_id: Nullable(Type.String()),
  details: Nullable(JsonObject),
  created_at: Type.String(),
});

export function auditRoutes(ledger: Ledger) {
  return async (app: FastifyInstance) => {
    app.get<{ Querystring: Static<typeof AuditQuery> }>(
      "/v1/audit-log",
      {
        schema: {
          tags: ["admin"],
          summary: "Who changed what, newest first (admin); page with before=<last id>",
          querystring: AuditQuery,
          response: { 200: Type.Array(AuditEntry), ...errorResponses },
        },
      },
      (request) => ledger.audit.list(request.actor, request.query),
    );
  };
}
