import type { FastifyInstance } from "fastify";
import { type Static, Type } from "typebox";
import type { Ledger } from "../../ledger.js";
import { FeedbackSetSchema, StepListSchema } from "../../core/schemas/steps.js";
import { errorResponses } from "../schemas/common.js";

const StepParams = Type.Object({ step_id: Type.String({ description: "step-<uuid v4>" }) });
type StepParams = Static<typeof StepParams>;
const tags = ["steps"];

/** Letta's /v1/steps routes. */
export function stepRoutes(ledger: Ledger) {
  return async (app: FastifyInstance) => {
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
