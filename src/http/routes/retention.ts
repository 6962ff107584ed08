import type { FastifyInstance } from "fastify";
import { type Static, Type } from "typebox";
import type { Ledger } from "../../ledger.js";
import { errorResponses, Nullable } from "../schemas/common.js";

const Days = (description: string) => Nullable(Type.Integer({ minimum: 1, maximum: 36_500, description }));
const StatusDays = Type.Object(
  { completed: Type.Optional(Type.Integer({ minimum: 1 })), failed: Type.Optional(Type.Integer({ minimum: 1 })), cancelled: Type.Optional(Type.Integer({ minimum: 1 })) },
  { additionalProperties: false, description: "Per-status overrides of terminal_days" },
);

const Policy = Type.Object({
  terminal_days: Days("Delete ended runs this many days after they ended; null keeps them"),
  status_days: StatusDays,
  soft_deleted_grace_days: Nullable(Type.Integer({ minimum: 0, description: "Purge soft-deleted runs after this many days; null uses the server default" })),
  updated_at: Type.String(),
});

const PolicyBody = Type.Object(
  {
    terminal_days: Type.Optional(Days("Delete ended runs this many days after they ended; null keeps them")),
    status_days: Type.Optional(Nullable(StatusDays)),
    soft_deleted_grace_days: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 36_500 }))),
  },
  { additionalProperties: false },
);

export function retentionRoutes(ledger: Ledger) {
  return async (app: FastifyInstance) => {
    app.get(
      "/v1/retention-policy",
      { schema: { tags: ["admin"], summary: "The organization's retention policy (admin)", response: { 200: Policy, ...errorResponses } } },
      (request) => ledger.retention.get(request.actor),
    );
    app.put<{ Body: Static<typeof PolicyBody> }>(
      "/v1/retention-policy",
      {
        schema: { tags: ["admin"], summary: "Replace the organization's retention policy (admin)", body: PolicyBody, response: { 200: Policy, ...errorResponses } },
      },
      (request) => ledger.retention.set(request.actor, request.body ?? {}),
    );
  };
}
