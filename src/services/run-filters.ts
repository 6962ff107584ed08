import { InvalidArgumentError } from "../core/errors.js";
import { requireId } from "../core/ids.js";
import { ACTIVE_STATUSES, parseRunStatus, parseStopReason, type RunStatus, type StopReason } from "../core/run-lifecycle.js";
import { parseTimestamp } from "../core/time.js";
import { LIMITS, optionalBoolean, optionalEnum, optionalInteger, optionalString, optionalStringArray } from "../core/validate.js";
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

/** Filters shared by listing, counting and bulk actions. */
export function parseRunFilter(query: RunListQuery): RunFilter {
  const filter: RunFilter = {};
  const agentIds = new Set<string>();
  if (query.agent_id != null) agentIds.add(requireId("agent", query.agent_id, "agent_id"));
  if (query.agent_ids != null) {
    if (!Array.isArray(query.agent_ids)) throw new InvalidArgumentError("agent_ids must be an array of agent ids");
    if (query.agent_ids.length > LIMITS.pageMax) throw new InvalidArgumentError(`agent_ids has more than ${LIMITS.pageMax} ids`);
    for (const id of query.agent_ids) agentIds.add(requireId("agent", id, "agent_ids"));
  }
  if (agentIds.size > 0) filter.agent_ids = [...agentIds];

  let statuses: RunStatus[] | undefined;
  if (query.statuses != null) {
    if (!Array.isArray(query.statuses)) throw new InvalidArgumentError("statuses must be an array of run statuses");
    statuses = [...new Set(query.statuses.map((s) => parseRunStatus(s, "statuses")))];
  }
  if (optionalBoolean(query.active, "active") === true) {
    statuses = (statuses ?? [...ACTIVE_STATUSES]).filter((s) => (ACTIVE_STATUSES as readonly string[]).includes(s));
  }
  if (statuses !== undefined && statuses.length > 0) filter.statuses = statuses;
  else if (statuses !== undefined) filter.statuses = [];

  const background = optionalBoolean(query.background, "background");
  if (background !== undefined) filter.background = background;
  if (query.stop_reason != null) filter.stop_reason = parseStopReason(query.stop_reason);
  const conversation = optionalString(query.conversation_id, "conversation_id");
  if (conversation !== undefined) filter.conversation_id = conversation;
  const project = optionalString(query.project_id, "project_id");
  if (project !== undefined) filter.project_id = project;
  const tags = optionalStringArray(query.tags, "tags", LIMITS.tags, LIMITS.tag);
  if (tags !== undefined && tags.length > 0) filter.tags = tags;
  if (query.created_after != null) filter.created_after = parseTimestamp(query.created_after, "created_after");
  if (query.created_before != null) filter.created_before = parseTimestamp(query.created_before, "created_before");

  const stepCount = optionalInteger(query.step_count, "step_count", 0);
  const stepOperator = optionalEnum(query.step_count_operator, "step_count_operator", ["eq", "gte", "lte"] as const);
  if (stepCount !== undefined) filter.step_count = { operator: stepOperator ?? "eq", value: stepCount };
  else if (stepOperator !== undefined) throw new InvalidArgumentError("step_count_operator needs step_count");

  const tools = optionalStringArray(query.tools_used, "tools_used", LIMITS.tags, LIMITS.name);
  if (tools !== undefined && tools.length > 0) filter.tools_used = tools;

  const durationValue = optionalInteger(query.duration_value, "duration_value", 0);
  const durationOperator = optionalEnum(query.duration_operator, "duration_operator", ["gt", "lt", "eq"] as const);
  if (durationValue !== undefined) filter.duration = { operator: (durationOperator ?? "gt") as Comparison, value: durationValue };
  else if (durationOperator !== undefined) throw new InvalidArgumentError("duration_operator needs duration_value");
  return filter;
}

export function parseRunListQuery(query: RunListQuery): ParsedRunQuery {
  return {
    filter: parseRunFilter(query),
    orderBy: optionalEnum(query.order_by, "order_by", ["created_at", "duration"] as const) ?? "created_at",
    percentile: optionalInteger(query.duration_percentile, "duration_percentile", 1, 100),
  };
}

/** Letta's deprecated `ascending` flag maps onto `order` when `order` is not given. */
export function effectiveOrder(query: RunListQuery): "asc" | "desc" | null | undefined {
  if (query.order != null) return query.order;
  if (query.ascending != null) return optionalBoolean(query.ascending, "ascending") ? "asc" : "desc";
  return undefined;
}
