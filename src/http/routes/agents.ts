import type { FastifyInstance } from "fastify";
import { type Static, Type } from "typebox";
import type { Ledger } from "../../ledger.js";
import { AgentCancelSchema, AgentCreateSchema, AgentListSchema, AgentUpdateSchema } from "../../core/schemas/agents.js";
import { errorResponses } from "../schemas/common.js";
import { AgentParams } from "../schemas/params.js";

type AgentParams = Static<typeof AgentParams>;
const tags = ["agents"];

/** The minimal agent registry that runs belong to, and cancelling an agent's runs. */
export function agentRoutes(ledger: Ledger) {
  return async (app: FastifyInstance) => {
    app.post<{ Body: Static<typeof AgentCreateSchema> }>(
      "/v1/agents",
      { schema: { tags, summary: "Register an agent", body: AgentCreateSchema, response: { 201: Type.Ref("Agent"), ...errorResponses } } },
      async (request, reply) => reply.code(201).send(await ledger.agents.create(request.actor, request.body)),
    );

    app.get<{ Querystring: Static<typeof AgentListSchema> }>(
      "/v1/agents/",
      { schema: { tags, summary: "List agents, oldest first by default", querystring: AgentListSchema, response: { 200: Type.Array(Type.Ref("Agent")), ...errorResponses } } },
      (request) => ledger.agents.list(request.actor, request.query),
    );

    app.get<{ Params: AgentParams }>(
      "/v1/agents/:agent_id",
      { schema: { tags, summary: "Retrieve an agent", params: AgentParams, response: { 200: Type.Ref("Agent"), ...errorResponses } } },
      (request) => ledger.agents.get(request.actor, request.params.agent_id),
    );

    app.patch<{ Params: AgentParams; Body: Static<typeof AgentUpdateSchema> }>(
      "/v1/agents/:agent_id",
      {
        schema: { tags, summary: "Rename an agent or merge its metadata", params: AgentParams, body: AgentUpdateSchema, response: { 200: Type.Ref("Agent"), ...errorResponses } },
      },
      (request) => ledger.agents.update(request.actor, request.params.agent_id, request.body ?? {}),
    );

    app.delete<{ Params: AgentParams }>(
      "/v1/agents/:agent_id",
      { schema: { tags, summary: "Delete an agent and all of its runs", params: AgentParams, response: { 204: Type.Null(), ...errorResponses } } },
      async (request, reply) => {
        await ledger.agents.delete(request.actor, request.params.agent_id);
        return reply.code(204).send();
      },
    );

    app.post<{ Params: AgentParams; Body: Static<typeof AgentCancelSchema> | undefined }>(
      "/v1/agents/:agent_id/messages/cancel",
      {
        schema: {
          tags,
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
