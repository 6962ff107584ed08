import type { FastifyInstance } from "fastify";
import { type Static, Type } from "typebox";
import { InvalidArgumentError } from "../../core/errors.js";
import type { Ledger } from "../../ledger.js";
import { AgentCancelSchema } from "../../core/schemas/agents.js";
import { MessageAppendSchema } from "../../core/schemas/messages.js";
import { RunCreateSchema, RunUpdateSchema } from "../../core/schemas/runs.js";
import { StepFinishSchema, StepRecordSchema } from "../../core/schemas/steps.js";
import { errorResponses } from "../schemas/common.js";
import { RunParams } from "./run-reads.js";

const StepParams = Type.Object({ run_id: Type.String(), step_id: Type.String() });
const AgentParams = Type.Object({ agent_id: Type.String() });
const IdempotencyHeaders = Type.Object({
  "idempotency-key": Type.Optional(Type.String({ maxLength: 256, description: "Same key and body returns the same run" })),
});

const tags = ["producer"];

/** The producer side: create runs, move them through the lifecycle, record steps and messages. */
export function runWriteRoutes(ledger: Ledger) {
  return async (app: FastifyInstance) => {
    app.post<{ Body: Static<typeof RunCreateSchema>; Headers: Static<typeof IdempotencyHeaders> }>(
      "/v1/runs",
      {
        schema: {
          tags,
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

    app.patch<{ Params: Static<typeof RunParams>; Body: Static<typeof RunUpdateSchema> }>(
      "/v1/runs/:run_id",
      {
        schema: {
          tags,
          summary: "Update a run (Letta's RunUpdate): status through the lifecycle, metadata merge, timings",
          params: RunParams,
          body: RunUpdateSchema,
          response: { 200: Type.Ref("Run"), ...errorResponses },
        },
      },
      (request) => ledger.runs.update(request.actor, request.params.run_id, request.body ?? {}),
    );

    app.delete<{ Params: Static<typeof RunParams> }>(
      "/v1/runs/:run_id",
      {
        schema: { tags: ["runs"], summary: "Delete a run with its steps, messages, metrics and events", params: RunParams, response: { 204: Type.Null(), ...errorResponses } },
      },
      async (request, reply) => {
        await ledger.runs.delete(request.actor, request.params.run_id);
        return reply.code(204).send();
      },
    );

    app.post<{ Params: Static<typeof RunParams> }>(
      "/v1/runs/:run_id/cancel",
      {
        schema: {
          tags,
          summary: "Cancel a run at once; cancelling an ended run returns it unchanged",
          params: RunParams,
          response: { 200: Type.Ref("Run"), ...errorResponses },
        },
      },
      (request) => ledger.runs.cancel(request.actor, request.params.run_id),
    );

    app.post<{ Params: Static<typeof RunParams> }>(
      "/v1/runs/:run_id/heartbeat",
      { schema: { tags, summary: "Report that the producer is alive", params: RunParams, response: { 200: Type.Ref("Run"), ...errorResponses } } },
      (request) => ledger.runs.heartbeat(request.actor, request.params.run_id),
    );

    app.post<{ Params: Static<typeof RunParams>; Body: Static<typeof StepRecordSchema> }>(
      "/v1/runs/:run_id/steps",
      {
        schema: {
          tags,
          summary: "Record a step (one LLM call) of an active run",
          params: RunParams,
          body: StepRecordSchema,
          response: { 201: Type.Ref("Step"), ...errorResponses },
        },
      },
      async (request, reply) => reply.code(201).send(await ledger.steps.record(request.actor, request.params.run_id, request.body)),
    );

    app.patch<{ Params: Static<typeof StepParams>; Body: Static<typeof StepFinishSchema> }>(
      "/v1/runs/:run_id/steps/:step_id",
      {
        schema: {
          tags,
          summary: "Finish a pending step with its final status and figures",
          params: StepParams,
          body: StepFinishSchema,
          response: { 200: Type.Ref("Step"), ...errorResponses },
        },
      },
      (request) => ledger.steps.finish(request.actor, request.params.run_id, request.params.step_id, request.body),
    );

    app.post<{ Params: Static<typeof RunParams>; Body: Static<typeof MessageAppendSchema> }>(
      "/v1/runs/:run_id/messages",
      {
        schema: {
          tags,
          summary: "Append LettaMessages to an active run",
          params: RunParams,
          body: MessageAppendSchema,
          response: { 201: Type.Array(Type.Ref("LettaMessage")), ...errorResponses },
        },
      },
      async (request, reply) => reply.code(201).send(await ledger.messages.append(request.actor, request.params.run_id, request.body.messages)),
    );

    app.post<{ Params: Static<typeof AgentParams>; Body: Static<typeof AgentCancelSchema> | undefined }>(
      "/v1/agents/:agent_id/messages/cancel",
      {
        schema: {
          tags: ["agents"],
          summary: "Cancel the given runs of an agent, or all of its active runs",
          description: "Returns each run's outcome, `cancelled` or `failed`. 409 when nothing was active.",
          params: AgentParams,
          body: Type.Union([AgentCancelSchema, Type.Null()]),
          response: { 200: Type.Record(Type.String(), Type.String()), ...errorResponses },
        },
      },
      (request) => ledger.runs.cancelAgentRuns(request.actor, request.params.agent_id, request.body?.run_ids),
    );
  };
}
