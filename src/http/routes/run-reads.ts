import type { FastifyInstance } from "fastify";
import { type Static, Type } from "typebox";
import type { Ledger } from "../../ledger.js";
import { errorResponses } from "../schemas/common.js";
import { MessageListQuery } from "../schemas/messages.js";
import { ActiveRunsQuery, RunListQuery } from "../schemas/runs.js";
import { RunStepsQuery } from "../schemas/steps.js";

export const RunParams = Type.Object({ run_id: Type.String({ description: "run-<uuid v4>" }) });
type RunParams = Static<typeof RunParams>;

const tags = ["runs"];

/** The Letta-compatible read side of /v1/runs. */
export function runReadRoutes(ledger: Ledger) {
  return async (app: FastifyInstance) => {
    app.get<{ Querystring: Static<typeof RunListQuery> }>(
      "/v1/runs/",
      {
        schema: {
          tags,
          summary: "List runs",
          description: "Bare JSON array, newest first by default. Page with `after=<last id>` until an empty page.",
          querystring: RunListQuery,
          response: { 200: Type.Array(Type.Ref("Run")), ...errorResponses },
        },
      },
      (request) => ledger.runs.list(request.actor, request.query),
    );

    app.get<{ Querystring: Static<typeof ActiveRunsQuery> }>(
      "/v1/runs/active",
      {
        schema: {
          tags,
          summary: "List active runs (deprecated in Letta; use ?active=true)",
          querystring: ActiveRunsQuery,
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

    app.get<{ Params: RunParams; Querystring: Static<typeof MessageListQuery> }>(
      "/v1/runs/:run_id/messages",
      {
        schema: {
          tags,
          summary: "List a run's messages (LettaMessage union), oldest first by default",
          params: RunParams,
          querystring: MessageListQuery,
          response: { 200: Type.Array(Type.Ref("LettaMessage")), ...errorResponses },
        },
      },
      (request) => ledger.messages.list(request.actor, request.params.run_id, request.query),
    );

    app.get<{ Params: RunParams; Querystring: Static<typeof RunStepsQuery> }>(
      "/v1/runs/:run_id/steps",
      {
        schema: {
          tags,
          summary: "List a run's steps, newest first by default",
          params: RunParams,
          querystring: RunStepsQuery,
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
