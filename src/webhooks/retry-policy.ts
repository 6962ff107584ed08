/**
 * When to try a failed delivery again: the configured schedule (default about 5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h, 10 h) with ±20% jitter so a receiver that comes back is not hit by
 * every retry at once; a later Retry-After from the receiver wins. 410 Gone stops at once.
 */
export const DEFAULT_RETRY_SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

export type AttemptOutcome =
  | { kind: "delivered" }
  | { kind: "retry"; afterMs: number }
  | { kind: "dead"; reason: string };

/** `attempt` counts from 1 (the first try). */
export function nextStep(
  schedule: readonly number[],
  attempt: number,
  statusCode: number | undefined,
  retryAfterHeader: string | undefined,
  random: () => number = Math.random,
): AttemptOutcome {
  if (statusCode !== undefined && statusCode >= 200 && statusCode < 300) return { kind: "delivered" };
  if (statusCode === 410) return { kind: "dead", reason: "the receiver answered 410 Gone" };
  if (attempt > schedule.length) return { kind: "dead", reason: `gave up after ${attempt} attempts` };
  const base = schedule[attempt - 1]!;
  const jittered = Math.round(base * (0.8 + 0.4 * random()));
  const retryAfter = parseRetryAfter(retryAfterHeader);
  return { kind: "retry", afterMs: retryAfter === undefined ? jittered : Math.max(jittered, Math.min(retryAfter, MAX_RETRY_AFTER_MS)) };
}

/** Retry-After as seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
