import type { FastifyInstance } from "fastify";
import { type Static, Type } from "typebox";
import type { Ledger } from "../../ledger.js";
import type { Authenticator } from "../auth.js";
import { ApiKeyCreateSchema, ApiKeyListSchema, OrganizationCreateSchema } from "../../core/schemas/admin.js";
import { errorResponses } from "../schemas/common.js";

const KeyParams = Type.Object({ key_id: Type.String({ description: "key-<uuid v4>" }) });

/** API keys (admin) and organizations (superuser). */
export function adminRoutes(ledger: Ledger, auth: Authenticator) {
  return async (app: FastifyInstance) => {
    app.post<{ Body: Static<typeof ApiKeyCreateSchema> }>(
      "/v1/api-keys",
      {
        schema: {
          tags: ["admin"],
          summary: "Create an API key; the secret is returned once, in `key`",
          body: ApiKeyCreateSchema,
          response: { 201: Type.Ref("CreatedApiKey"), ...errorResponses },
        },
      },
      async (request, reply) => reply.code(201).send(await ledger.apiKeys.create(request.actor, request.body ?? {})),
    );

    app.get<{ Querystring: Static<typeof ApiKeyListSchema> }>(
      "/v1/api-keys",
      { schema: { tags: ["admin"], summary: "List API keys (never their secrets)", querystring: ApiKeyListSchema, response: { 200: Type.Array(Type.Ref("ApiKey")), ...errorResponses } } },
      (request) => ledger.apiKeys.list(request.actor, request.query.organization_id),
    );

    app.delete<{ Params: Static<typeof KeyParams> }>(
      "/v1/api-keys/:key_id",
      { schema: { tags: ["admin"], summary: "Revoke an API key", params: KeyParams, response: { 200: Type.Ref("ApiKey"), ...errorResponses } } },
      async (request) => {
        const key = await ledger.apiKeys.revoke(request.actor, request.params.key_id);
        auth.forget(key.id);
        return key;
      },
    );

    app.post<{ Body: Static<typeof OrganizationCreateSchema> }>(
      "/v1/organizations",
      { schema: { tags: ["admin"], summary: "Create an organization (superuser)", body: OrganizationCreateSchema, response: { 201: Type.Ref("Organization"), ...errorResponses } } },
      async (request, reply) => reply.code(201).send(await ledger.organizations.create(request.actor, request.body)),
    );

    app.get(
      "/v1/organizations",
      { schema: { tags: ["admin"], summary: "List organizations (superuser)", response: { 200: Type.Array(Type.Ref("Organization")), ...errorResponses } } },
      (request) => ledger.organizations.list(request.actor),
    );
  };
}
