/**
 * The one place errors become HTTP responses: `{"detail": …, "code": …}`. Domain errors map
 * by code; schema violations are 422 with one problem per field, worded as the services word
 * them (the same compiled schemas find them); anything unexpected is
 * logged and answered with a generic 500 (every 500 is a bug).
 */
import type { ErrorObject } from "ajv";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorCode, LedgerError } from "../core/errors.js";
import { validationError } from "../core/input.js";

const STATUS: { readonly [code in ErrorCode]: number } = {
  VALIDATION_ERROR: 422,
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  INVALID_TRANSITION: 409,
  CONFLICT: 409,
  UNAVAILABLE: 503,
};

/**
 * A limit of this server (not of the ledger) refused the request: 429. `retryAfterS`, when
 * known, becomes the Retry-After header.
 */
export class TooManyRequestsError extends Error {
  constructor(readonly code: "RATE_LIMITED" | "TOO_MANY_STREAMS", message: string, readonly retryAfterS?: number) {
    super(message);
    this.name = new.target.name;
  }
}

/** Seconds a client should wait before retrying a 503: PostgreSQL restarts in about that. */
export const RETRY_AFTER_S = 2;

export function sendError(reply: FastifyReply, status: number, code: string, detail: string, problems?: readonly string[]): FastifyReply {
  // Letta's client retries 409s unless told not to; no retry can fix these.
  if (status === 409) reply.header("x-should-retry", "false");
  if (status === 503) reply.header("retry-after", String(RETRY_AFTER_S));
  return reply.code(status).send(problems === undefined ? { detail, code } : { detail, code, problems });
}

/**
 * What the router refuses before any route runs — a path whose percent-encoding is not
 * UTF-8, a path segment past the router's limit — answered with the same problem body as
 * everything else. Passed to Fastify as `frameworkErrors`.
 */
export function frameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === "FST_ERR_MAX_PARAM_LENGTH") {
    sendError(reply, 414, "URI_TOO_LONG", `a segment of the request path is longer than ${MAX_PATH_SEGMENT} characters; no id is that long`);
  } else if (error.code === "FST_ERR_BAD_URL") {
    sendError(reply, 400, "INVALID_ARGUMENT", "the request path is not valid: a percent-encoded sequence in it is not UTF-8");
  } else {
    sendError(reply, error.statusCode ?? 400, "BAD_REQUEST", error.message);
  }
}

/** The longest path parameter the router takes. Ids are about 40 characters: anything up to this reaches the id check, whose message names the format. */
export const MAX_PATH_SEGMENT = 2048;

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof LedgerError) {
      return sendError(reply, STATUS[error.code], error.code, error.message, error.problems);
    }
    if (error instanceof TooManyRequestsError) {
      if (error.retryAfterS !== undefined) reply.header("retry-after", error.retryAfterS);
      return sendError(reply, 429, error.code, error.message);
    }
    if (error.validation) {
      // A body or query string is the input itself, named as a library caller names it; a
      // path parameter or header is named with its part of the request.
      const context = error.validationContext === "body" || error.validationContext === "querystring" ? undefined : error.validationContext;
      const invalid = validationError(error.validation as ErrorObject[], context);
      return sendError(reply, STATUS[invalid.code], invalid.code, invalid.message, invalid.problems);
    }
    switch (error.code) {
      case "FST_ERR_CTP_BODY_TOO_LARGE":
        return sendError(reply, 413, "PAYLOAD_TOO_LARGE", `the request body is larger than the limit of ${app.initialConfig.bodyLimit} bytes`);
      case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
        return sendError(reply, 415, "UNSUPPORTED_MEDIA_TYPE", "send request bodies as application/json");
      case "FST_ERR_CTP_INVALID_JSON_BODY":
      case "FST_ERR_CTP_EMPTY_JSON_BODY":
        return sendError(reply, 400, "MALFORMED_JSON", `the request body is not valid JSON: ${error.message}`);
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(reply, error.statusCode, "BAD_REQUEST", error.message);
    }
    request.log.error({ err: error }, "unhandled error");
    return sendError(reply, 500, "INTERNAL", `internal error (request ${request.id}); it has been logged`);
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, "NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]}; see /openapi.json for the API`),
  );
}
