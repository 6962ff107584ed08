import { InvalidArgumentError } from "./errors.js";

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `5s`, `5m`, `2h`, `1d` (a bare number is seconds) into milliseconds. */
export function parseDuration(text: string, what: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (match === null) throw new InvalidArgumentError(`${what} '${text}' is not a duration; use e.g. 500ms, 5s, 5m, 2h or 1d`);
  return Math.round(Number(match[1]) * UNITS[match[2] ?? "s"]!);
}

/** Parses a comma-separated list of durations, e.g. `5s,5m,30m`. */
export function parseDurationList(text: string, what: string): number[] {
  const items = text.split(",").map((part) => part.trim()).filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError(`${what} is empty; give durations such as 5s,5m,30m`);
  return items.map((item) => parseDuration(item, what));
}
