import type { FastifyInstance } from "fastify";
import { type Static, Type } from "typebox";
import type { Ledger } from "../../ledger.js";
import { Nullable } from "../../core/schemas/common.js";
import { errorResponses } from "../schemas/common.js";
import { RunParams } from "../schemas/params.js";

const SecretView = Type.Object({
  secret: Type.String({ description: "whsec_… — verify webhook-signature with it (Standard Webhooks)" }),
  previous_secret_expires_at: Nullable(Type.String({ description: "Until then deliveries also carry a signature made with the previous secret" })),
  rotated_at: Nullable(Type.String()),
});

const Attempt = Type.Object({
  attempt: Type.Integer(),
  started_at: Type.String(),
  duration_ms: Type.Integer(),
  status_code: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  outcome: Type.String({ description: "delivered, retry or dead" }),
});

const Delivery = Type.Object({
  id: Type.String({ description: "The webhook-id header, stable across retries" }),
  run_id: Type.String(),
  url: Type.String(),
  event_type: Type.String(),
  payload: Type.String({ description: "The exact body sent" }),
  status: Type.String({ description: "pending, delivered, failed (will retry) or dead" }),
  attempts: Type.Integer(),
  next_attempt_at: Type.String(),
  last_status_code: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  created_at: Type.String(),
  delivered_at: Nullable(Type.String()),
  attempt_log: Type.Array(Attempt),
});

/** Webhook signing secrets and each run's delivery log. */
export function webhookRoutes(ledger: Ledger) {
  return async (app: FastifyInstance) => {
    app.get(
      "/v1/webhook-secret",
      { schema: { tags: ["webhooks"], summary: "The organization's webhook signing secret (admin)", response: { 200: SecretView, ...errorResponses } } },
      (request) => ledger.webhooks.getSecret(request.actor),
    );

    app.post(
      "/v1/webhook-secret/rotate",
      {
        schema: {
          tags: ["webhooks"],
          summary: "Rotate the signing secret (admin); the previous one keeps signing for 24 h",
          response: { 200: SecretView, ...errorResponses },
        },
      },
      (request) => ledger.webhooks.rotateSecret(request.actor),
    );

    app.get<{ Params: Static<typeof RunParams> }>(
      "/v1/runs/:run_id/callbacks",
      { schema: { tags: ["webhooks"], summary: "The run's webhook deliveries with every attempt", params: RunParams, response: { 200: Type.Array(Delivery), ...errorResponses } } },
      (request) => ledger.webhooks.deliveries(request.actor, request.params.run_id),
    );

    app.post<{ Params: Static<typeof RunParams> }>(
      "/v1/runs/:run_id/callbacks/redeliver",
      {
        schema: {
          tags: ["webhooks"],
          summary: "Send the run's latest webhook again now (same webhook-id)",
          params: RunParams,
          response: { 200: Delivery, ...errorResponses },
        },
      },
      (request) => ledger.webhooks.redeliver(request.actor, request.params.run_id),
    );
  };
}
