import type { FastifyInstance } from "fastify";
import { type Static, Type } from "typebox";
import type { Ledger } from "../../ledger.js";
import { AuditListSchema } from "../../core/schemas/admin.js";
import { JsonObject, Nullable } from "../../core/schemas/common.js";
import { errorResponses } from "../schemas/common.js";

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
    app.get<{ Querystring: Static<typeof AuditListSchema> }>(
      "/v1/audit-log",
      {
        schema: {
          tags: ["admin"],
          summary: "Who changed what, newest first (admin); page with before=<last id>",
          querystring: AuditListSchema,
          response: { 200: Type.Array(AuditEntry), ...errorResponses },
        },
      },
      (request) => ledger.audit.list(request.actor, request.query),
    );
  };
}
