/**
 * What a request body or query string may hold beyond being JSON: valid UTF-8, no NUL
 * character anywhere (PostgreSQL's text and jsonb cannot store one, so it would fail deep in
 * a write), and nesting no deeper than MAX_JSON_DEPTH (a deeper document overflows the
 * stack of whatever walks it). Each is refused with a message that says what to change.
 */
import { InvalidArgumentError } from "../core/errors.js";

export const MAX_JSON_DEPTH = 64;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The body as text, refusing bytes that are not UTF-8. */
export function decodeUtf8(body: string | Buffer): string {
  if (typeof body === "string") return body;
  try {
    return utf8.decode(body);
  } catch {
    throw new InvalidArgumentError("the request body is not valid UTF-8; send JSON encoded as UTF-8");
  }
}

/**
 * Scans JSON text once (strings skipped as they go) for nesting depth and for a `\u0000`
 * escape inside a string. Short texts and texts without the escape take the fast paths.
 */
export function checkJsonText(text: string): void {
  const mayHoldNul = text.includes("\\u0000");
  if (!mayHoldNul && text.length <= 2 * MAX_JSON_DEPTH) return;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x22) break;
        if (d !== 0x5c /* \ */) continue;
        if (mayHoldNul && text.startsWith("u0000", i + 1)) {
          throw new InvalidArgumentError("the request body holds a NUL character (\\u0000) in a string; remove it");
        }
        i++;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > MAX_JSON_DEPTH) throw new InvalidArgumentError(`the request body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

/** Refuses a query value holding a NUL character (as `%00`). */
export function checkQueryValues(query: unknown): void {
  if (query === null || typeof query !== "object") return;
  for (const [key, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item === "string" && item.includes("\0")) throw new InvalidArgumentError(`query parameter ${key} holds a NUL character (%00); remove it`);
    }
  }
}
