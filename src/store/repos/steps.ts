import type { StopReason } from "../../core/run-lifecycle.js";
import type { Feedback, JsonObject, Step, StepStatus } from "../../core/model.js";
import type { Dialect, Executor, SqlParam } from "../executor.js";
import { applyOrder, planPage, type PageRequest } from "../pagination.js";
import { json, jsonOrNull, param, placeholders, setClause } from "../sql-values.js";
import { numberOrNull } from "./runs.js";

export interface StepFilter {
  run_id?: string;
  agent_id?: string;
  model?: string;
  feedback?: Feedback;
  has_feedback?: boolean;
  /** Steps carrying every one of these tags. */
  tags?: readonly string[];
  trace_ids?: readonly string[];
  project_id?: string;
  start_date?: string;
  end_date?: string;
}

const STEP_COLUMNS = [
  "id", "run_id", "agent_id", "organization_id", "project_id", "status", "stop_reason", "provider_name",
  "provider_category", "provider_id", "model", "model_endpoint", "model_handle", "context_window_limit",
  "prompt_tokens", "completion_tokens", "total_tokens", "cached_input_tokens", "cache_write_tokens",
  "reasoning_tokens", "prompt_tokens_details", "completion_tokens_details", "error_type", "error_data", "feedback",
  "tags", "trace_id", "request_id", "created_at", "updated_at", "llm_request_start_ns", "llm_request_ns",
  "tool_execution_ns", "step_start_ns", "step_ns",
] as const;

const KEYSET = { columns: ["s.created_at", "s.id"] };

export class StepRepo {
  constructor(private readonly db: Executor, private readonly dialect: Dialect) {}

  /**
   * False when the id is taken (ids are unique across organizations). A concurrent insert
   * of the same id waits for the other transaction and then reports the id taken.
   */
  async insert(step: Step & { organization_id: string }): Promise<boolean> {
    const record = step as unknown as Record<string, unknown>;
    const changed = await this.db.run(
      `INSERT INTO steps (${STEP_COLUMNS.join(", ")}) VALUES (${placeholders(STEP_COLUMNS.length)}) ON CONFLICT (id) DO NOTHING`,
      STEP_COLUMNS.map((c) => param(record[c])),
    );
    return changed === 1;
  }

  async exists(organizationId: string, id: string): Promise<boolean> {
    return (await this.db.get("SELECT 1 AS x FROM steps WHERE id = ? AND organization_id = ?", [id, organizationId])) !== undefined;
  }

  async get(organizationId: string, id: string): Promise<Step | undefined> {
    const row = await this.db.get(
      "SELECT s.* FROM steps s JOIN runs r ON r.id = s.run_id WHERE s.id = ? AND s.organization_id = ? AND r.deleted_at IS NULL",
      [id, organizationId],
    );
    return row && toStep(row);
  }

  /** Updates a step while its status is one of `fromStatuses` (any when omitted). */
  async update(
    organizationId: string,
    id: string,
    set: Partial<Omit<Step, "id" | "run_id" | "agent_id" | "created_at">>,
    fromStatuses?: readonly StepStatus[],
  ): Promise<Step | undefined> {
    const clause = setClause(set);
    const params: SqlParam[] = [...clause.params, id, organizationId];
    let guard = "";
    if (fromStatuses !== undefined) {
      guard = ` AND status IN (${placeholders(fromStatuses.length)})`;
      params.push(...fromStatuses);
    }
    const row = await this.db.get(`UPDATE steps SET ${clause.sql} WHERE id = ? AND organization_id = ?${guard} RETURNING *`, params);
    return row && toStep(row);
  }

  /** Settles a finished run's pending steps (a cancelled run's steps are cancelled, a failed run's failed). */
  async settlePending(runId: string, status: StepStatus, at: string): Promise<number> {
    return this.db.run("UPDATE steps SET status = ?, updated_at = ? WHERE run_id = ? AND status = 'pending'", [status, at, runId]);
  }

  async cursor(organizationId: string, id: string, runId?: string): Promise<SqlParam[] | undefined> {
    const row = await this.db.get<{ created_at: string; id: string }>(
      `SELECT created_at, id FROM steps WHERE id = ? AND organization_id = ?${runId === undefined ? "" : " AND run_id = ?"}`,
      runId === undefined ? [id, organizationId] : [id, organizationId, runId],
    );
    return row && [row.created_at, row.id];
  }

  async list(organizationId: string, filter: StepFilter, page: PageRequest): Promise<Step[]> {
    const conditions: string[] = [];
    const params: SqlParam[] = [];
    const add = (sql: string, ...values: SqlParam[]) => {
      conditions.push(sql);
      params.push(...values);
    };
    // One run's steps are found through its run_id index; the organization is checked on
    // the run row, which the join reads by primary key anyway.
    if (filter.run_id !== undefined) add("s.run_id = ? AND r.organization_id = ?", filter.run_id, organizationId);
    else add("s.organization_id = ?", organizationId);
    conditions.push("r.deleted_at IS NULL");
    if (filter.agent_id !== undefined) add("s.agent_id = ?", filter.agent_id);
    if (filter.model !== undefined) add("s.model = ?", filter.model);
    if (filter.feedback !== undefined) add("s.feedback = ?", filter.feedback);
    if (filter.has_feedback !== undefined) conditions.push(filter.has_feedback ? "s.feedback IS NOT NULL" : "s.feedback IS NULL");
    if (filter.project_id !== undefined) add("s.project_id = ?", filter.project_id);
    if (filter.start_date !== undefined) add("s.created_at >= ?", filter.start_date);
    if (filter.end_date !== undefined) add("s.created_at <= ?", filter.end_date);
    if (filter.tags !== undefined && filter.tags.length > 0) add(this.dialect.jsonArrayHasAll("s.tags", filter.tags.length), ...filter.tags);
    if (filter.trace_ids !== undefined && filter.trace_ids.length > 0) {
      add(`s.trace_id IN (${placeholders(filter.trace_ids.length)})`, ...filter.trace_ids);
    }
    const plan = planPage(KEYSET, page);
    if (plan.where) add(plan.where, ...plan.params);
    const rows = await this.db.all(
      `SELECT s.* FROM steps s JOIN runs r ON r.id = s.run_id WHERE ${conditions.join(" AND ")} ORDER BY ${plan.orderBy} LIMIT ?`,
      [...params, plan.limit],
    );
    return applyOrder(rows, plan).map(toStep);
  }
}

export function toStep(row: Record<string, unknown>): Step {
  return {
    id: row.id as string,
    run_id: row.run_id as string,
    agent_id: row.agent_id as string,
    project_id: (row.project_id as string | null) ?? null,
    status: row.status as StepStatus,
    stop_reason: (row.stop_reason as StopReason | null) ?? null,
    provider_name: (row.provider_name as string | null) ?? null,
    provider_category: (row.provider_category as string | null) ?? null,
    provider_id: (row.provider_id as string | null) ?? null,
    model: (row.model as string | null) ?? null,
    model_endpoint: (row.model_endpoint as string | null) ?? null,
    model_handle: (row.model_handle as string | null) ?? null,
    context_window_limit: numberOrNull(row.context_window_limit),
    prompt_tokens: Number(row.prompt_tokens),
    completion_tokens: Number(row.completion_tokens),
    total_tokens: Number(row.total_tokens),
    cached_input_tokens: numberOrNull(row.cached_input_tokens),
    cache_write_tokens: numberOrNull(row.cache_write_tokens),
    reasoning_tokens: numberOrNull(row.reasoning_tokens),
    prompt_tokens_details: jsonOrNull<JsonObject>(row.prompt_tokens_details),
    completion_tokens_details: jsonOrNull<JsonObject>(row.completion_tokens_details),
    error_type: (row.error_type as string | null) ?? null,
    error_data: jsonOrNull<JsonObject>(row.error_data),
    feedback: (row.feedback as Feedback | null) ?? null,
    tags: json<string[]>(row.tags),
    trace_id: (row.trace_id as string | null) ?? null,
    request_id: (row.request_id as string | null) ?? null,
    created_at: row.created_at as string,
    updated_at: row.updated_at as string,
    llm_request_start_ns: numberOrNull(row.llm_request_start_ns),
    llm_request_ns: numberOrNull(row.llm_request_ns),
    tool_execution_ns: numberOrNull(row.tool_execution_ns),
    step_start_ns: numberOrNull(row.step_start_ns),
    step_ns: numberOrNull(row.step_ns),
  };
}
