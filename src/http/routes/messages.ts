import type { FastifyInstance } from "fastify";
import { type Static, Type } from "typebox";
import { MessageAppendSchema, MessageListSchema } from "../../core/schemas/messages.js";
import type { Ledger } from "../../ledger.js";
import { errorResponses } from "../schemas/common.js";
import { RunParams } from "../schemas/params.js";

type RunParams = Static<typeof RunParams>;

/** A run's LettaMessages: Letta's list, and the producer's append. */
export function messageRoutes(ledger: Ledger) {
  return async (app: FastifyInstance) => {
    app.get<{ Params: RunParams; Querystring: Static<typeof MessageListSchema> }>(
      "/v1/runs/:run_id/messages",
      {
        schema: {
          tags: ["runs"],
          summary: "List a run's messages (LettaMessage union), oldest first by default",
          params: RunParams,
          querystring: MessageListSchema,
          response: { 200: Type.Array(Type.Ref("LettaMessage")), ...errorResponses },
        },
      },
      (request) => ledger.messages.list(request.actor, request.params.run_id, request.query),
    );

    app.post<{ Params: RunParams; Body: Static<typeof MessageAppendSchema> }>(
      "/v1/runs/:run_id/messages",
      {
        schema: {
          tags: ["producer"],
          summary: "Append LettaMessages to an active run",
          params: RunParams,
          body: MessageAppendSchema,
          response: { 201: Type.Array(Type.Ref("LettaMessage")), ...errorResponses },
        },
      },
      async (request, reply) => reply.code(201).send(await ledger.messages.append(request.actor, request.params.run_id, request.body.messages)),
    );
  };
}
