import type { FastifyInstance } from "fastify";
import { type Static, Type } from "typebox";
import { InvalidArgumentError } from "../../core/errors.js";
import { ActiveRunsSchema, RunCreateSchema, RunListSchema, RunUpdateSchema } from "../../core/schemas/runs.js";
import type { Ledger } from "../../ledger.js";
import { errorResponses } from "../schemas/common.js";
import { RunParams } from "../schemas/params.js";

type RunParams = Static<typeof RunParams>;
const IdempotencyHeaders = Type.Object({
  "idempotency-key": Type.Optional(Type.String({ maxLength: 256, description: "Same key and body returns the same run" })),
});

const tags = ["runs"];
const producer = ["producer"];

/** /v1/runs: Letta's read side (list, retrieve, usage, metrics) and the producer's lifecycle writes. */
export function runRoutes(ledger: Ledger) {
  return async (app: FastifyInstance) => {
    app.get<{ Querystring: Static<typeof RunListSchema> }>(
      "/v1/runs/",
      {
        schema: {
          tags,
          summary: "List runs",
          description: "Bare JSON array, newest first by default. Page with `after=<last id>` until an empty page.",
          querystring: RunListSchema,
          response: { 200: Type.Array(Type.Ref("Run")), ...errorResponses },
        },
      },
      (request) => ledger.runs.list(request.actor, request.query),
    );

    app.get<{ Querystring: Static<typeof ActiveRunsSchema> }>(
      "/v1/runs/active",
      {
        schema: {
          tags,
          summary: "List active runs (deprecated in Letta; use ?active=true)",
          querystring: ActiveRunsSchema,
          response: { 200: Type.Array(Type.Ref("Run")), ...errorResponses },
        },
      },
      (request) => ledger.runs.list(request.actor, { ...request.query, active: true, limit: 1000 }),
    );

    app.get<{ Params: RunParams }>(
      "/v1/runs/:run_id",
      { schema: { tags, summary: "Retrieve a run", params: RunParams, response: { 200: Type.Ref("Run"), ...errorResponses } } },
      (request) => ledger.runs.get(request.actor, request.params.run_id),
    );

    app.get<{ Params: RunParams }>(
      "/v1/runs/:run_id/usage",
      {
        schema: { tags, summary: "Token usage over every step of the run", params: RunParams, response: { 200: Type.Ref("Usage"), ...errorResponses } },
      },
      (request) => ledger.runs.usage(request.actor, request.params.run_id),
    );

    app.get<{ Params: RunParams }>(
      "/v1/runs/:run_id/metrics",
      { schema: { tags, summary: "The run's metrics row", params: RunParams, response: { 200: Type.Ref("RunMetrics"), ...errorResponses } } },
      (request) => ledger.runs.metrics(request.actor, request.params.run_id),
    );

    app.post<{ Body: Static<typeof RunCreateSchema>; Headers: Static<typeof IdempotencyHeaders> }>(
      "/v1/runs",
      {
        schema: {
          tags: producer,
          summary: "Create a run",
          description: "201 with the new run; 200 with the original run when an Idempotency-Key is replayed with the same body.",
          headers: IdempotencyHeaders,
          body: RunCreateSchema,
          response: { 200: Type.Ref("Run"), 201: Type.Ref("Run"), ...errorResponses },
        },
      },
      async (request, reply) => {
        const header = request.headers["idempotency-key"];
        const field = request.body.idempotency_key;
        if (header !== undefined && field != null && header !== field) {
          throw new InvalidArgumentError("the Idempotency-Key header and the idempotency_key field differ; send one of them");
        }
        const { run, created } = await ledger.runs.createOrReplay(request.actor, { ...request.body, idempotency_key: header ?? field });
        return reply.code(created ? 201 : 200).send(run);
      },
    );

    app.patch<{ Params: RunParams; Body: Static<typeof RunUpdateSchema> }>(
      "/v1/runs/:run_id",
      {
        schema: {
          tags: producer,
          summary: "Update a run (Letta's RunUpdate): status through the lifecycle, metadata merge, timings",
          params: RunParams,
          body: RunUpdateSchema,
          response: { 200: Type.Ref("Run"), ...errorResponses },
        },
      },
      (request) => ledger.runs.update(request.actor, request.params.run_id, request.body ?? {}),
    );

    app.delete<{ Params: RunParams }>(
      "/v1/runs/:run_id",
      {
        schema: { tags, summary: "Delete a run with its steps, messages, metrics and events", params: RunParams, response: { 204: Type.Null(), ...errorResponses } },
      },
      async (request, reply) => {
        await ledger.runs.delete(request.actor, request.params.run_id);
        return reply.code(204).send();
      },
    );

    app.post<{ Params: RunParams }>(
      "/v1/runs/:run_id/cancel",
      {
        schema: {
          tags: producer,
          summary: "Cancel a run at once; cancelling an ended run returns it unchanged",
          params: RunParams,
          response: { 200: Type.Ref("Run"), ...errorResponses },
        },
      },
      (request) => ledger.runs.cancel(request.actor, request.params.run_id),
    );

    app.post<{ Params: RunParams }>(
      "/v1/runs/:run_id/heartbeat",
      { schema: { tags: producer, summary: "Report that the producer is alive", params: RunParams, response: { 200: Type.Ref("Run"), ...errorResponses } } },
      (request) => ledger.runs.heartbeat(request.actor, request.params.run_id),
    );
  };
}
