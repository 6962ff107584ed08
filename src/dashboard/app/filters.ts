/**
 * The run filters of the runs and stats pages. They live in the page's URL under the API's
 * own parameter names (plus `range`, a time window relative to now), so a bookmarked view
 * is the same request every time it is opened and reads like the API call it makes.
 */
import type { Query } from "./query.js";
import { RUN_STATUSES, type RunStatus } from "./types.js";

export const RANGES = { "15m": 15 * 60_000, "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000 } as const;
export type Range = keyof typeof RANGES;

export interface RunFilters {
  agent_id?: string;
  statuses: RunStatus[];
  stop_reason?: string;
  range?: Range;
  created_after?: string;
  created_before?: string;
  tags: string[];
  background?: "true" | "false";
  duration_operator?: "gt" | "lt";
  /** Nanoseconds, as the API takes it. */
  duration_value?: number;
}

const FILTER_KEYS = ["agent_id", "statuses", "stop_reason", "range", "created_after", "created_before", "tags", "background", "duration_operator", "duration_value"];

function one(params: URLSearchParams, key: string): string | undefined {
  const value = params.get(key);
  return value === null || value === "" ? undefined : value;
}

function isoOrUndefined(value: string | undefined): string | undefined {
  return value !== undefined && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : undefined;
}

export function parseFilters(params: URLSearchParams): RunFilters {
  const range = one(params, "range");
  const background = one(params, "background");
  const operator = one(params, "duration_operator");
  const durationValue = Number(one(params, "duration_value"));
  return {
    agent_id: one(params, "agent_id"),
    statuses: params.getAll("statuses").filter((s): s is RunStatus => (RUN_STATUSES as readonly string[]).includes(s)),
    stop_reason: one(params, "stop_reason"),
    range: range !== undefined && range in RANGES ? (range as Range) : undefined,
    created_after: isoOrUndefined(one(params, "created_after")),
    created_before: isoOrUndefined(one(params, "created_before")),
    tags: params.getAll("tags").filter((t) => t !== ""),
    background: background === "true" || background === "false" ? background : undefined,
    duration_operator: operator === "gt" || operator === "lt" ? operator : undefined,
    duration_value: operator !== undefined && Number.isFinite(durationValue) && durationValue >= 0 ? Math.round(durationValue) : undefined,
  };
}

/** The URL parameters of these filters, keeping any other parameter (a cursor is dropped: new filters start at the top). */
export function filtersToParams(filters: RunFilters, keep?: URLSearchParams): URLSearchParams {
  const params = new URLSearchParams();
  if (keep !== undefined) for (const [key, value] of keep) if (!FILTER_KEYS.includes(key) && key !== "after" && key !== "before") params.append(key, value);
  const set = (key: string, value: string | number | undefined) => {
    if (value !== undefined && value !== "") params.set(key, String(value));
  };
  set("agent_id", filters.agent_id);
  for (const status of filters.statuses) params.append("statuses", status);
  set("stop_reason", filters.stop_reason);
  set("range", filters.range);
  if (filters.range === undefined) {
    set("created_after", filters.created_after);
    set("created_before", filters.created_before);
  }
  for (const tag of filters.tags) params.append("tags", tag);
  set("background", filters.background);
  if (filters.duration_value !== undefined) {
    set("duration_operator", filters.duration_operator ?? "gt");
    set("duration_value", filters.duration_value);
  }
  return params;
}

export function hasFilters(filters: RunFilters): boolean {
  return filtersToParams(filters).toString() !== "";
}

/** The API query these filters mean now (a range becomes created_after). */
export function filtersToQuery(filters: RunFilters, now = Date.now()): Query {
  return {
    agent_id: filters.agent_id,
    statuses: filters.statuses.length > 0 ? filters.statuses : undefined,
    stop_reason: filters.stop_reason,
    created_after: filters.range !== undefined ? new Date(now - RANGES[filters.range]).toISOString() : filters.created_after,
    created_before: filters.range !== undefined ? undefined : filters.created_before,
    tags: filters.tags.length > 0 ? filters.tags : undefined,
    background: filters.background,
    duration_operator: filters.duration_value === undefined ? undefined : (filters.duration_operator ?? "gt"),
    duration_value: filters.duration_value,
  };
}

/** The same filters as a JSON body (bulk actions take the list's filters in the body). */
export function filtersToBody(filters: RunFilters, now = Date.now()): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(filtersToQuery(filters, now))) {
    if (value === undefined) continue;
    body[key] = key === "background" ? value === "true" : value;
  }
  return body;
}
