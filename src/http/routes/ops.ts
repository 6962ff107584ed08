import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import type { Ledger } from "../../ledger.js";
import type { ServerMetrics } from "../../telemetry/metrics.js";
import { sendError } from "../errors.js";

const Status = Type.Object({ status: Type.String() });

/** Liveness, readiness and the API description; no key needed. */
export function opsRoutes(ledger: Ledger, metrics: ServerMetrics) {
  return async (app: FastifyInstance) => {
    app.get("/healthz", { schema: { tags: ["operations"], summary: "The process is up", security: [], response: { 200: Status } } }, async () => ({
      status: "ok",
    }));

    app.get(
      "/readyz",
      { schema: { tags: ["operations"], summary: "The database answers", security: [], response: { 200: Status, 503: Type.Ref("Error") } } },
      async (request, reply) => {
        try {
          await ledger.instance.ready();
          return { status: "ready" };
        } catch (error) {
          request.log.warn({ err: error }, "readiness check failed");
          return sendError(reply, 503, "UNAVAILABLE", "the database does not answer");
        }
      },
    );

    app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

    app.get(
      "/metrics",
      { schema: { tags: ["operations"], summary: "Prometheus metrics", security: [], response: { 200: { type: "string" } } } },
      async (_request, reply) => {
        const { contentType, body } = await metrics.scrape();
        return reply.type(contentType).send(body);
      },
    );
  };
}
