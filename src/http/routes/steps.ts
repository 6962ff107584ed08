import type { FastifyInstance } from "fastify";
import { type Static, Type } from "typebox";
import type { Ledger } from "../../ledger.js";
import { FeedbackSetSchema, RunStepsSchema, StepFinishSchema, StepListSchema, StepRecordSchema } from "../../core/schemas/steps.js";
import { errorResponses } from "../schemas/common.js";
import { RunParams, RunStepParams, StepParams } from "../schemas/params.js";

type RunParams = Static<typeof RunParams>;
type StepParams = Static<typeof StepParams>;
const tags = ["steps"];

/** Steps: a run's steps (Letta's list, the producer's record and finish) and Letta's /v1/steps across the organization. */
export function stepRoutes(ledger: Ledger) {
  return async (app: FastifyInstance) => {
    app.get<{ Params: RunParams; Querystring: Static<typeof RunStepsSchema> }>(
      "/v1/runs/:run_id/steps",
      {
        schema: {
          tags: ["runs"],
          summary: "List a run's steps, newest first by default",
          params: RunParams,
          querystring: RunStepsSchema,
          response: { 200: Type.Array(Type.Ref("Step")), ...errorResponses },
        },
      },
      (request) => ledger.steps.listForRun(request.actor, request.params.run_id, request.query),
    );

    app.post<{ Params: RunParams; Body: Static<typeof StepRecordSchema> }>(
      "/v1/runs/:run_id/steps",
      {
        schema: {
          tags: ["producer"],
          summary: "Record a step (one LLM call) of an active run",
          params: RunParams,
          body: StepRecordSchema,
          response: { 201: Type.Ref("Step"), ...errorResponses },
        },
      },
      async (request, reply) => reply.code(201).send(await ledger.steps.record(request.actor, request.params.run_id, request.body)),
    );

    app.patch<{ Params: Static<typeof RunStepParams>; Body: Static<typeof StepFinishSchema> }>(
      "/v1/runs/:run_id/steps/:step_id",
      {
        schema: {
          tags: ["producer"],
          summary: "Finish a pending step with its final status and figures",
          params: RunStepParams,
          body: StepFinishSchema,
          response: { 200: Type.Ref("Step"), ...errorResponses },
        },
      },
      (request) => ledger.steps.finish(request.actor, request.params.run_id, request.params.step_id, request.body),
    );

    app.get<{ Querystring: Static<typeof StepListSchema> }>(
      "/v1/steps/",
      {
        schema: {
          tags,
          summary: "List the organization's steps, newest first by default",
          querystring: StepListSchema,
          response: { 200: Type.Array(Type.Ref("Step")), ...errorResponses },
        },
      },
      (request) => ledger.steps.list(request.actor, request.query),
    );

    app.get<{ Params: StepParams }>(
      "/v1/steps/:step_id",
      { schema: { tags, summary: "Retrieve a step", params: StepParams, response: { 200: Type.Ref("Step"), ...errorResponses } } },
      (request) => ledger.steps.get(request.actor, request.params.step_id),
    );

    app.get<{ Params: StepParams }>(
      "/v1/steps/:step_id/metrics",
      { schema: { tags, summary: "A step's timings", params: StepParams, response: { 200: Type.Ref("StepMetrics"), ...errorResponses } } },
      (request) => ledger.steps.metrics(request.actor, request.params.step_id),
    );

    app.patch<{ Params: StepParams; Body: Static<typeof FeedbackSetSchema> }>(
      "/v1/steps/:step_id/feedback",
      {
        schema: {
          tags,
          summary: "Set or clear a step's feedback (and optionally replace its tags)",
          params: StepParams,
          body: FeedbackSetSchema,
          response: { 200: Type.Ref("Step"), ...errorResponses },
        },
      },
      (request) => ledger.steps.setFeedback(request.actor, request.params.step_id, request.body ?? {}),
    );
  };
}
