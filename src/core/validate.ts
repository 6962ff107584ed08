/**
 * Limits, and the few checks of input that its schema (core/schemas/) cannot express: a JSON
 * object's serialized size, a URL's scheme. Each throws an InvalidArgumentError whose message
 * names the field and says what is expected.
 */
import { InvalidArgumentError } from "./errors.js";
import type { JsonObject } from "./model.js";

export const LIMITS = {
  name: 256,
  shortText: 512,
  url: 2048,
  tag: 128,
  tags: 64,
  /** Serialized size of a metadata or request_config object. */
  jsonBytes: 64 * 1024,
  messagesPerBatch: 1000,
  pageMax: 1000,
  pageDefault: 100,
  /** Tokens of one step: more than any model's context, and a run's totals cannot overflow their 64-bit columns. */
  tokens: 1_000_000_000_000,
  /** The largest JSON number a 32-bit integer column holds (context windows, step counts). */
  int32: 2 ** 31 - 1,
  /** The largest JSON number a 64-bit integer column holds (nanoseconds, sequence and event ids): 2^63 less one double step. */
  int64: 2 ** 63 - 1024,
} as const;

/** A JSON object (its schema checked the shape) within the size limit: metadata, request_config, details. */
export function optionalJsonObject(value: unknown, field: string): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) throw new InvalidArgumentError(`${field} must be a JSON object`);
  const size = Buffer.byteLength(JSON.stringify(value));
  if (size > LIMITS.jsonBytes) throw new InvalidArgumentError(`${field} is ${size} bytes as JSON; the limit is ${LIMITS.jsonBytes}`);
  return value as JsonObject;
}

/** The strings without repeats, in first-seen order. */
export function uniqueStrings(values: readonly string[] | null | undefined): string[] | undefined {
  return values == null ? undefined : [...new Set(values)];
}

export function optionalHttpUrl(value: string | null | undefined, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`${field} '${value}' is not an absolute URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InvalidArgumentError(`${field} must be an http or https URL`);
  return value;
}
