/**
 * Input checks shared by the services. Each returns the value in its domain type or throws
 * an InvalidArgumentError whose message names the field and says what is expected.
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
} as const;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function optionalString(value: unknown, field: string, max: number = LIMITS.shortText): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new InvalidArgumentError(`${field} must be a string, got ${typeof value}`);
  if (value.length > max) throw new InvalidArgumentError(`${field} is ${value.length} characters long; the limit is ${max}`);
  return value;
}

export function optionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw new InvalidArgumentError(`${field} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

export function optionalInteger(value: unknown, field: string, min: number, max: number = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${field} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function optionalEnum<T extends string>(value: unknown, field: string, allowed: readonly T[]): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`${field} '${String(value)}' is not valid; expected one of ${allowed.join(", ")}`);
  }
  return value as T;
}

/** A JSON object within the size limit (metadata, request_config, details). */
export function optionalJsonObject(value: unknown, field: string): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw new InvalidArgumentError(`${field} must be a JSON object`);
  const size = Buffer.byteLength(JSON.stringify(value));
  if (size > LIMITS.jsonBytes) throw new InvalidArgumentError(`${field} is ${size} bytes as JSON; the limit is ${LIMITS.jsonBytes}`);
  return value as JsonObject;
}

export function optionalStringArray(value: unknown, field: string, maxItems: number, maxLength: number): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new InvalidArgumentError(`${field} must be an array of strings`);
  if (value.length > maxItems) throw new InvalidArgumentError(`${field} has ${value.length} items; the limit is ${maxItems}`);
  for (const [i, item] of value.entries()) {
    if (typeof item !== "string" || item.length === 0) throw new InvalidArgumentError(`${field}[${i}] must be a non-empty string`);
    if (item.length > maxLength) throw new InvalidArgumentError(`${field}[${i}] is longer than ${maxLength} characters`);
  }
  return [...new Set(value as string[])];
}

export function optionalHttpUrl(value: unknown, field: string): string | undefined {
  const text = optionalString(value, field, LIMITS.url);
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError(`${field} '${text}' is not an absolute URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InvalidArgumentError(`${field} must be an http or https URL`);
  return text;
}

/** Rejects fields the operation does not know, so a typo never passes silently. */
export function rejectUnknownFields(input: Record<string, unknown>, known: readonly string[], what: string): void {
  const unknown = Object.keys(input).filter((k) => !known.includes(k) && input[k] !== undefined);
  if (unknown.length > 0) {
    throw new InvalidArgumentError(`${what} does not take ${unknown.map((k) => `'${k}'`).join(", ")}; allowed fields: ${known.join(", ")}`);
  }
}

export function requireObject(value: unknown, what: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw new InvalidArgumentError(`${what} must be a JSON object`);
  return value;
}
