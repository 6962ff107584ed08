/**
 * Assembles the HTTP server: Fastify with JSON schemas on every route (the same schemas
 * generate /openapi.json), bearer-key auth on /v1, request ids, and the one error mapper.
 * Routes only translate HTTP to service calls; all logic lives in the services.
 */
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import { inputValidator } from "../core/input.js";
import type { Actor } from "../core/model.js";
import type { Ledger } from "../ledger.js";
import { type DashboardOptions, dashboardRoutes } from "../dashboard/routes.js";
import { Authenticator } from "./auth.js";
import { MAX_PATH_SEGMENT, frameworkError, installErrorHandling } from "./errors.js";
import { decodeUtf8 } from "./utf8-body.js";
import { installRateLimit, type RateLimit } from "./rate-limit.js";
import { DEFAULT_MAX_STREAMS_PER_KEY, DEFAULT_STREAM_BUFFER_BYTES, DEFAULT_STREAM_STALL_MS, SseStreams } from "./sse.js";
import { ServerMetrics } from "../telemetry/metrics.js";
import { adminRoutes } from "./routes/admin.js";
import { agentRoutes } from "./routes/agents.js";
import { opsRoutes } from "./routes/ops.js";
import { messageRoutes } from "./routes/messages.js";
import { runRoutes } from "./routes/runs.js";
import { stepRoutes } from "./routes/steps.js";
import { streamRoutes } from "./routes/streams.js";
import { webhookRoutes } from "./routes/webhooks.js";
import { statsRoutes } from "./routes/stats.js";
import { bulkRoutes } from "./routes/bulk.js";
import { auditRoutes } from "./routes/audit.js";
import { retentionRoutes } from "./routes/retention.js";
import { Agent } from "./schemas/agents.js";
import { ApiKey, CreatedApiKey, Organization } from "./schemas/admin.js";
import { ErrorBody } from "./schemas/common.js";
import { LettaMessage } from "./schemas/messages.js";
import { Run, RunMetrics, Usage } from "./schemas/runs.js";
import { Step, StepMetrics } from "./schemas/steps.js";

declare module "fastify" {
  interface FastifyRequest {
    actor: Actor;
  }
  interface FastifyInstance {
    /** Every route as registered: method, URL pattern, and whether the API description hides it. */
    routeTable: { method: string; url: string; hidden: boolean }[];
  }
}

export interface ServerOptions {
  ledger: Ledger;
  /** A pino logger, or false for none (tests). */
  logger?: FastifyBaseLogger | boolean;
  bodyLimit?: number;
  /** How long a verified API key is trusted without asking the database again. */
  authCacheMs?: number;
  /** Keep-alive period of open event streams (default 20 s). */
  pingIntervalMs?: number;
  /** Where the built dashboard is served from. */
  dashboard?: DashboardOptions;
  limits?: ServerLimits;
}

/** Limits per API key, each in this process only (see the README's "Limits"). */
export interface ServerLimits {
  /** Requests per key; none by default. */
  rate?: RateLimit;
  /** Open event streams per key (default 100; 0 for no cap). */
  maxStreamsPerKey?: number;
  /** Bytes an event stream may hold unsent before it waits for its reader (default 1 MiB). */
  streamBufferBytes?: number;
  /** How long a stream waits for a reader that takes nothing of its full buffer before closing it (default 30 s). */
  streamStallMs?: number;
}

export const DEFAULT_BODY_LIMIT = 2 * 1024 * 1024;
const PUBLIC_PATHS = ["/healthz", "/readyz", "/openapi.json", "/docs", "/metrics"];

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    genReqId: (request) => {
      const given = request.headers["x-request-id"];
      return typeof given === "string" && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PATH_SEGMENT },
    frameworkErrors: frameworkError,
  });
  installValidators(app);
  // The per-request hooks take callbacks rather than promises: they run on every request,
  // and an async hook costs a promise and a microtask turn each.
  app.addHook("onSend", (request, reply, payload, done) => {
    reply.header("x-request-id", request.id);
    done(null, payload);
  });
  // This server's own registry: what its ledger reports is counted here, and only here.
  const metrics = new ServerMetrics(() => options.ledger.instance.runsByStatus());
  const detachMetrics = options.ledger.reportTo(metrics);
  app.addHook("onClose", async () => detachMetrics());
  app.addHook("onResponse", (request, reply, done) => {
    metrics.httpRequest(request.method, request.routeOptions.url ?? "unmatched", reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  installErrorHandling(app);
  installJsonParser(app);
  app.decorate("routeTable", []);
  app.addHook("onRoute", (route) => {
    const hidden = route.url.startsWith("/docs") || (route.schema as { hide?: boolean } | undefined)?.hide === true;
    for (const method of [route.method].flat()) app.routeTable.push({ method, url: route.url, hidden });
  });

  for (const schema of [ErrorBody, Run, RunMetrics, Usage, Step, StepMetrics, LettaMessage, Agent, ApiKey, CreatedApiKey, Organization]) {
    app.addSchema(schema);
  }
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "runledger",
        version: "1",
        description: "Run tracking for AI agents, compatible with the Letta run API.",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API key: rlk_…" } } },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === "string" ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });

  const auth = new Authenticator(options.ledger.apiKeys, options.authCacheMs);
  app.decorateRequest("actor", null as unknown as Actor);
  app.addHook("preValidation", (request, _reply, done) => {
    dropEmptyQueryValues(request.query);
    done();
  });
  const isPublic = new Map<string, boolean>();
  app.addHook("preHandler", (request, _reply, done) => {
    const path = request.routeOptions.url ?? request.url;
    let open = isPublic.get(path);
    if (open === undefined) {
      open = PUBLIC_PATHS.some((p) => path === p || path.startsWith(`${p}/`)) || request.routeOptions.config.public === true;
      // Only route patterns are remembered: an unmatched request's path is whatever was sent.
      if (request.routeOptions.url !== undefined) isPublic.set(path, open);
    }
    if (open) {
      done();
      return;
    }
    let cached: Actor | undefined;
    try {
      cached = auth.cachedActor(request);
    } catch (error) {
      done(error as Error);
      return;
    }
    if (cached !== undefined) {
      request.actor = cached;
      done();
      return;
    }
    auth.actorFor(request).then(
      (actor) => {
        request.actor = actor;
        done();
      },
      (error: unknown) => done(error as Error),
    );
  });
  const limits = options.limits ?? {};
  // After authentication, so that it counts per key.
  if (limits.rate !== undefined) installRateLimit(app, limits.rate, () => metrics.rateLimited());
  const streams = new SseStreams(
    {
      maxPerKey: limits.maxStreamsPerKey ?? DEFAULT_MAX_STREAMS_PER_KEY,
      bufferBytes: limits.streamBufferBytes ?? DEFAULT_STREAM_BUFFER_BYTES,
      stallMs: limits.streamStallMs ?? DEFAULT_STREAM_STALL_MS,
    },
    metrics,
  );

  // Event streams never finish on their own: shutdown ends them so in-flight requests can drain.
  // A connection that has not sent a byte yet (an HTTP client's spare, opened ahead of a
  // request it then did not need) is not idle to Node, which would hold shutdown open
  // until its headers timeout: it carries no request, so it is closed too.
  const connections = new Set<Socket>();
  app.server.on("connection", (socket: Socket) => {
    connections.add(socket);
    socket.once("close", () => connections.delete(socket));
  });
  app.addHook("preClose", async () => {
    streams.endAll();
    for (const socket of connections) if (socket.bytesRead === 0) socket.destroy();
  });

  const ledger = options.ledger;
  await app.register(opsRoutes(ledger, metrics));
  await app.register(runRoutes(ledger));
  await app.register(stepRoutes(ledger));
  await app.register(messageRoutes(ledger));
  await app.register(agentRoutes(ledger));
  await app.register(adminRoutes(ledger, auth));
  await app.register(streamRoutes(ledger, { pingIntervalMs: options.pingIntervalMs ?? 20_000, streams }));
  await app.register(webhookRoutes(ledger));
  await app.register(statsRoutes(ledger));
  await app.register(bulkRoutes(ledger));
  await app.register(auditRoutes(ledger));
  await app.register(retentionRoutes(ledger));
  await app.register(dashboardRoutes(options.dashboard));
  return app;
}

/**
 * The services' own compiled validators. Query strings, path parameters and headers arrive
 * as text, so they are coerced to the schema's types (and a lone value to an array:
 * `statuses=a` is `["a"]`). Bodies are JSON and are taken exactly as sent: a string where an
 * array belongs is an error, not an array.
 */
function installValidators(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart }) => inputValidator(schema, httpPart === "body" ? "exact" : "coercing"));
}

/** Letta's client sends a null query value as an empty `key=`; that means "not given". */
function dropEmptyQueryValues(query: unknown): void {
  if (query === null || typeof query !== "object") return;
  const record = query as Record<string, unknown>;
  for (const key in record) {
    const value = record[key];
    if (value === "") delete record[key];
    else if (Array.isArray(value)) {
      const kept = value.filter((v) => v !== "");
      if (kept.length === 0) delete record[key];
      else record[key] = kept;
    }
  }
}

/**
 * JSON bodies as Fastify parses them, from UTF-8 only, except that an empty body means "no
 * body" (POST …/cancel with a JSON content type).
 */
function installJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    let text: string;
    try {
      text = decodeUtf8(body);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    if (text.trim() === "") done(null, undefined);
    else void parse(request, text, done);
  });
}
