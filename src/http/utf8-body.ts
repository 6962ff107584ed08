/**
 * A request body's bytes as text. Bytes that are not UTF-8 are refused rather than stored as
 * replacement characters. What the text may hold (no NUL, nesting depth) is the services'
 * check (`core/input.ts`), the same for every caller.
 */
import { InvalidArgumentError } from "../core/errors.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function decodeUtf8(body: string | Buffer): string {
  if (typeof body === "string") return body;
  try {
    return utf8.decode(body);
  } catch {
    throw new InvalidArgumentError("the request body is not valid UTF-8; send JSON encoded as UTF-8");
  }
}
