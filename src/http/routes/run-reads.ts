import type { FastifyInstance } from "fastify";
import { type Static, Type } from "typebox";
import type { Ledger } from "../../ledger.js";
import { MessageListSchema } from "../../core/schemas/messages.js";
import { ActiveRunsSchema, RunListSchema } from "../../core/schemas/runs.js";
import { RunStepsSchema } from "../../core/schemas/steps.js";
import { errorResponses } from "../schemas/common.js";

export const RunParams = Type.Object({ run_id: Type.String({ description: "run-<uuid v4>" }) });
type RunParams = Static<typeof RunParams>;

const tags = ["runs"];

/** The Letta-compatible read side of /v1/runs. */
export function runReadRoutes(ledger: Ledger) {
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

    app.get<{ Params: RunParams; Querystring: Static<typeof MessageListSchema> }>(
      "/v1/runs/:run_id/messages",
      {
        schema: {
          tags,
          summary: "List a run's messages (LettaMessage union), oldest first by default",
          params: RunParams,
          querystring: MessageListSchema,
          response: { 200: Type.Array(Type.Ref("LettaMessage")), ...errorResponses },
        },
      },
      (request) => ledger.messages.list(request.actor, request.params.run_id, request.query),
    );

    app.get<{ Params: RunParams; Querystring: Static<typeof RunStepsSchema> }>(
      "/v1/runs/:run_id/steps",
      {
        schema: {
          tags,
          summary: "List a run's steps, newest first by default",
          params: RunParams,
          querystring: RunStepsSchema,
          response: { 200: Type.Array(Type.Ref("Step")), ...errorResponses },
        },
      },
      (request) => ledger.steps.listForRun(request.actor, request.params.run_id, request.query),
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
  };
}
