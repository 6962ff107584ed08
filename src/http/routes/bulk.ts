import type { FastifyInstance } from "fastify";
import { type Static, Type } from "typebox";
import type { Ledger } from "../../ledger.js";
import { errorResponses } from "../schemas/common.js";
import { BulkSchema } from "../../core/schemas/runs.js";

const BulkResult = Type.Object({
  dry_run: Type.Boolean(),
  matched: Type.Integer({ description: "Runs the filters selected (for cancel: the active ones)" }),
  changed: Type.Integer({ description: "Runs changed (0 on a dry run)" }),
});

export function bulkRoutes(ledger: Ledger) {
  return async (app: FastifyInstance) => {
    app.post<{ Body: Static<typeof BulkSchema> }>(
      "/v1/runs/bulk/cancel",
      {
        schema: {
          tags: ["runs"],
          summary: "Cancel every active run the filters select",
          description: "The body holds the list's filters (agent_id, statuses, tags, created range, …) and dry_run.",
          body: BulkSchema,
          response: { 200: BulkResult, ...errorResponses },
        },
      },
      (request) => ledger.bulk.cancel(request.actor, request.body ?? {}),
    );
    app.post<{ Body: Static<typeof BulkSchema> }>(
      "/v1/runs/bulk/delete",
      {
        schema: {
          tags: ["runs"],
          summary: "Delete every run the filters select, with their steps, messages, metrics, events and deliveries",
          body: BulkSchema,
          response: { 200: BulkResult, ...errorResponses },
        },
      },
      (request) => ledger.bulk.delete(request.actor, request.body ?? {}),
    );
  };
}
