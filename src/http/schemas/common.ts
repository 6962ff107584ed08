/** Schemas every route's responses share. */
import { Type } from "typebox";

export const ErrorBody = Type.Object(
  {
    detail: Type.String({ description: "What went wrong and how to fix it" }),
    code: Type.String({ description: "Machine-readable code, e.g. NOT_FOUND, INVALID_TRANSITION" }),
    problems: Type.Optional(Type.Array(Type.String(), { description: "One entry per invalid field" })),
  },
  { $id: "Error" },
);

/**
 * The responses every authenticated route can give besides its success; 429 when the
 * server's rate limit (or, for streams, its cap on open streams per key) is reached.
 */
export const errorResponses = {
  400: Type.Ref("Error"),
  401: Type.Ref("Error"),
  403: Type.Ref("Error"),
  404: Type.Ref("Error"),
  409: Type.Ref("Error"),
  413: Type.Ref("Error"),
  422: Type.Ref("Error"),
  429: Type.Ref("Error", {
    description: "Too many requests for this API key: its rate limit (Retry-After says when to retry), or for an event stream its cap on open streams",
    headers: { "retry-after": { type: "integer", description: "Seconds to wait before retrying" } },
  }),
  503: Type.Ref("Error"),
};
