import type { FastifyInstance } from "fastify";
import { type Static, Type } from "typebox";
import type { Ledger } from "../../ledger.js";
import { RetentionPolicySchema, StatusDaysSchema } from "../../core/schemas/admin.js";
import { errorResponses } from "../schemas/common.js";

const Policy = Type.Object({
  terminal_days: RetentionPolicySchema.properties.terminal_days,
  status_days: StatusDaysSchema,
  soft_deleted_grace_days: RetentionPolicySchema.properties.soft_deleted_grace_days,
  updated_at: Type.String(),
});

export function retentionRoutes(ledger: Ledger) {
  return async (app: FastifyInstance) => {
    app.get(
      "/v1/retention-policy",
      { schema: { tags: ["admin"], summary: "The organization's retention policy (admin)", response: { 200: Policy, ...errorResponses } } },
      (request) => ledger.retention.get(request.actor),
    );
    app.put<{ Body: Static<typeof RetentionPolicySchema> }>(
      "/v1/retention-policy",
      {
        schema: { tags: ["admin"], summary: "Replace the organization's retention policy (admin)", body: RetentionPolicySchema, response: { 200: Policy, ...errorResponses } },
      },
      (request) => ledger.retention.set(request.actor, request.body ?? {}),
    );
  };
}
