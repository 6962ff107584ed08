import { InvalidArgumentError } from "../core/errors.js";
import { requireId } from "../core/ids.js";
import { ACTIVE_STATUSES, type RunStatus, type StopReason } from "../core/run-lifecycle.js";
import { parseTimestamp } from "../core/time.js";
import { uniqueStrings } from "../core/validate.js";
import type { Comparison, RunFilter, RunOrderBy } from "../store/repos/runs.js";
import type { PageInput } from "./paging.js";

/** The run list's query, as Letta's API names it, plus runledger's extensions. */
export interface RunListQuery extends PageInput {
  agent_id?: string | null;
  agent_ids?: readonly string[] | null;
  statuses?: readonly RunStatus[] | null;
  active?: boolean | null;
  background?: boolean | null;
  stop_reason?: StopReason | null;
  conversation_id?: string | null;
  project_id?: string | null;
  tags?: readonly string[] | null;
  created_after?: string | null;
  created_before?: string | null;
  step_count?: number | null;
  step_count_operator?: "eq" | "gte" | "lte" | null;
  tools_used?: readonly string[] | null;
  /** Nanoseconds, compared with total_duration_ns. */
  duration_value?: number | null;
  duration_operator?: "gt" | "lt" | "eq" | null;
  /** Keeps runs whose duration is at or above this percentile (1–100) of the matching runs. */
  duration_percentile?: number | null;
  order_by?: RunOrderBy | null;
  /** Deprecated Letta flag: true means order=asc. */
  ascending?: boolean | null;
}

export interface ParsedRunQuery {
  filter: RunFilter;
  orderBy: RunOrderBy;
  percentile: number | undefined;
}

/** Filters shared by listing, counting and bulk actions, from a query its schema has checked. */
export function parseRunFilter(query: RunListQuery): RunFilter {
  const filter: RunFilter = {};
  const agentIds = new Set<string>();
  if (query.agent_id != null) agentIds.add(requireId("agent", query.agent_id, "agent_id"));
  for (const id of query.agent_ids ?? []) agentIds.add(requireId("agent", id, "agent_ids"));
  if (agentIds.size > 0) filter.agent_ids = [...agentIds];

  let statuses = uniqueStrings(query.statuses) as RunStatus[] | undefined;
  if (query.active === true) {
    statuses = (statuses ?? [...ACTIVE_STATUSES]).filter((s) => (ACTIVE_STATUSES as readonly string[]).includes(s));
  }
  if (statuses !== undefined) filter.statuses = statuses;

  if (query.background != null) filter.background = query.background;
  if (query.stop_reason != null) filter.stop_reason = query.stop_reason;
  if (query.conversation_id != null) filter.conversation_id = query.conversation_id;
  if (query.project_id != null) filter.project_id = query.project_id;
  const tags = uniqueStrings(query.tags);
  if (tags !== undefined && tags.length > 0) filter.tags = tags;
  if (query.created_after != null) filter.created_after = parseTimestamp(query.created_after, "created_after");
  if (query.created_before != null) filter.created_before = parseTimestamp(query.created_before, "created_before");

  const stepOperator = query.step_count_operator ?? undefined;
  if (query.step_count != null) filter.step_count = { operator: stepOperator ?? "eq", value: query.step_count };
  else if (stepOperator !== undefined) throw new InvalidArgumentError("step_count_operator needs step_count");

  const tools = uniqueStrings(query.tools_used);
  if (tools !== undefined && tools.length > 0) filter.tools_used = tools;

  const durationOperator = query.duration_operator ?? undefined;
  if (query.duration_value != null) filter.duration = { operator: (durationOperator ?? "gt") as Comparison, value: query.duration_value };
  else if (durationOperator !== undefined) throw new InvalidArgumentError("duration_operator needs duration_value");
  return filter;
}

export function parseRunListQuery(query: RunListQuery): ParsedRunQuery {
  return {
    filter: parseRunFilter(query),
    orderBy: query.order_by ?? "created_at",
    percentile: query.duration_percentile ?? undefined,
  };
}

/** Letta's deprecated `ascending` flag maps onto `order` when `order` is not given. */
export function effectiveOrder(query: RunListQuery): "asc" | "desc" | null | undefined {
  if (query.order != null) return query.order;
  if (query.ascending != null) return query.ascending ? "asc" : "desc";
  return undefined;
}
