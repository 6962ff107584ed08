import { InvalidArgumentError } from "./errors.js";

/** All timestamps are ISO 8601 UTC with millisecond precision and a trailing Z. */
export function nowIso(): string {
  return new Date().toISOString();
}

export function toIso(value: Date | string | number): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

export function parseTimestamp(value: unknown, field: string): string {
  if (typeof value !== "string" && !(value instanceof Date)) {
    throw new InvalidArgumentError(`${field} must be an ISO 8601 timestamp string, got ${typeof value}`);
  }
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError(`${field} '${String(value)}' is not an ISO 8601 timestamp (e.g. 2026-01-31T12:00:00Z)`);
  }
  return date.toISOString();
}

/** Milliseconds between two ISO timestamps, as integer nanoseconds. */
export function durationNs(fromIso: string, toIsoValue: string): number {
  return Math.max(0, Date.parse(toIsoValue) - Date.parse(fromIso)) * 1_000_000;
}

/** Wall clock in nanoseconds since the epoch (millisecond resolution). */
export function wallClockNs(): number {
  return Date.now() * 1_000_000;
}
