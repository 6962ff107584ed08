import { RUN_STATUSES, type RunStatus, type StopReason } from "../../core/run-lifecycle.js";
import type { JsonObject, Run, RunError } from "../../core/model.js";
import type { Dialect, Executor, SqlParam } from "../executor.js";
import { applyOrder, planPage, type PageRequest } from "../pagination.js";
import { bool, json, jsonOrNull, param, placeholders, setClause } from "../sql-values.js";

/** The columns a service may write; `last_seq_id` is advanced only through `advanceSeq`. */
export type RunColumns = Omit<Run, "id" | "agent_id" | "created_at"> & {
  request_hash: string | null;
};

export interface RunInsert extends Run {
  organization_id: string;
  request_hash: string | null;
}

export type Comparison = "eq" | "gt" | "lt" | "gte" | "lte";

/** A validated list filter; every field narrows the result. */
export interface RunFilter {
  agent_ids?: readonly string[];
  statuses?: readonly RunStatus[];
  background?: boolean;
  stop_reason?: StopReason;
  conversation_id?: string;
  project_id?: string;
  /** Runs carrying every one of these tags. */
  tags?: readonly string[];
  created_after?: string;
  created_before?: string;
  step_count?: { operator: Comparison; value: number };
  /** Runs that used at least one of these tools. */
  tools_used?: readonly string[];
  /** On total_duration_ns. */
  duration?: { operator: Comparison; value: number };
  /** total_duration_ns at or above this (the duration-percentile filter, resolved). */
  duration_at_least?: number;
}

export type RunOrderBy = "created_at" | "duration";

const OPERATORS: { readonly [op in Comparison]: string } = { eq: "=", gt: ">", lt: "<", gte: ">=", lte: "<=" };

const KEYSETS = {
  created_at: { columns: ["r.created_at", "r.id"] },
  duration: { columns: ["COALESCE(r.total_duration_ns, -1)", "r.id"] },
} as const;

/**
 * The columns of a run as the API returns it, in its order: hot reads select exactly these
 * and read each row by position (runFromValues), without an intermediate object per row.
 */
const RUN_COLUMNS = [
  "id", "agent_id", "status", "stop_reason", "created_at", "updated_at", "completed_at", "background", "metadata",
  "request_config", "conversation_id", "project_id", "base_template_id", "callback_url", "callback_sent_at",
  "callback_status_code", "callback_error", "ttft_ns", "total_duration_ns", "started_at", "last_heartbeat_at",
  "cancel_requested_at", "error", "tags", "idempotency_key", "ttl_s", "max_duration_s", "heartbeat_timeout_s", "deleted_at",
] as const;
const RUN_SELECT = RUN_COLUMNS.join(", ");
const RUN_SELECT_R = RUN_COLUMNS.map((c) => `r.${c}`).join(", ");

export class RunRepo {
  constructor(private readonly db: Executor, private readonly dialect: Dialect) {}

  /**
   * Inserts the run with its event log at seq_id 1 (the `created` status event the caller
   * writes); false when its idempotency key is already taken in the organization.
   */
  async insert(run: RunInsert): Promise<boolean> {
    const changed = await this.db.run(
      `INSERT INTO runs (id, organization_id, agent_id, status, stop_reason, created_at, updated_at, completed_at,
         background, metadata, request_config, conversation_id, project_id, base_template_id, callback_url,
         ttft_ns, total_duration_ns, started_at, last_heartbeat_at, error, tags, idempotency_key, request_hash,
         ttl_s, max_duration_s, heartbeat_timeout_s, last_seq_id)
       VALUES (${placeholders(26)}, 1)
       ON CONFLICT DO NOTHING`,
      [
        run.id, run.organization_id, run.agent_id, run.status, run.stop_reason, run.created_at, run.updated_at,
        run.completed_at, run.background, param(run.metadata), param(run.request_config), run.conversation_id,
        run.project_id, run.base_template_id, run.callback_url, run.ttft_ns, run.total_duration_ns, run.started_at,
        run.last_heartbeat_at, param(run.error), param(run.tags), run.idempotency_key, run.request_hash, run.ttl_s,
        run.max_duration_s, run.heartbeat_timeout_s,
      ],
    );
    return changed === 1;
  }

  async get(organizationId: string, id: string): Promise<Run | undefined> {
    const [row] = await this.db.values(`SELECT ${RUN_SELECT} FROM runs WHERE id = ? AND organization_id = ? AND deleted_at IS NULL`, [id, organizationId]);
    return row && runFromValues(row);
  }

  /** Reads the run and, on PostgreSQL, locks its row until the transaction ends. */
  async getForUpdate(organizationId: string, id: string): Promise<Run | undefined> {
    const [row] = await this.db.values(
      `SELECT ${RUN_SELECT} FROM runs WHERE id = ? AND organization_id = ? AND deleted_at IS NULL${this.dialect.forUpdate}`,
      [id, organizationId],
    );
    return row && runFromValues(row);
  }

  async findByIdempotencyKey(organizationId: string, key: string): Promise<{ run: Run; requestHash: string | null; deleted: boolean } | undefined> {
    const row = await this.db.get("SELECT * FROM runs WHERE organization_id = ? AND idempotency_key = ?", [organizationId, key]);
    return row && { run: toRun(row), requestHash: (row.request_hash as string | null) ?? null, deleted: row.deleted_at !== null };
  }

  /**
   * The guarded write: updates the run only while its status is one of `fromStatuses`
   * (any status when omitted). Returns the updated run, or undefined when the guard failed.
   * `events` reserves that many stream sequence numbers in the same statement.
   */
  async update(
    organizationId: string,
    id: string,
    set: Partial<RunColumns>,
    options: { fromStatuses?: readonly RunStatus[]; events?: number } = {},
  ): Promise<{ run: Run; lastSeqId: number } | undefined> {
    const clause = setClause(set);
    const params: SqlParam[] = [...clause.params];
    const assignments = [clause.sql];
    if (options.events) {
      assignments.push("last_seq_id = last_seq_id + ?");
      params.push(options.events);
    }
    params.push(id, organizationId);
    let guard = "";
    if (options.fromStatuses !== undefined) {
      guard = ` AND status IN (${placeholders(options.fromStatuses.length)})`;
      params.push(...options.fromStatuses);
    }
    const [row] = await this.db.values(
      `UPDATE runs SET ${assignments.filter(Boolean).join(", ")} WHERE id = ? AND organization_id = ? AND deleted_at IS NULL${guard} RETURNING ${RUN_SELECT}, last_seq_id`,
      params,
    );
    return row && { run: runFromValues(row), lastSeqId: Number(row[RUN_COLUMNS.length]) };
  }

  /** Records the latest webhook attempt on the run (its callback_* fields). */
  async setCallback(
    organizationId: string,
    id: string,
    callback: Pick<Run, "callback_sent_at" | "callback_status_code" | "callback_error">,
  ): Promise<void> {
    await this.db.run("UPDATE runs SET callback_sent_at = ?, callback_status_code = ?, callback_error = ? WHERE id = ? AND organization_id = ? AND deleted_at IS NULL", [
      callback.callback_sent_at,
      callback.callback_status_code,
      callback.callback_error,
      id,
      organizationId,
    ]);
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    return (await this.db.run("DELETE FROM runs WHERE id = ? AND organization_id = ?", [id, organizationId])) === 1;
  }

  /** Deletes these runs of the organization (their steps, messages, metrics and events cascade). */
  async deleteMany(organizationId: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.db.run(`DELETE FROM runs WHERE organization_id = ? AND id IN (${placeholders(ids.length)})`, [organizationId, ...ids]);
  }

  async deleteByAgent(organizationId: string, agentId: string): Promise<number> {
    return this.db.run("DELETE FROM runs WHERE organization_id = ? AND agent_id = ?", [organizationId, agentId]);
  }

  /** The sort-key values of a run, for use as a pagination cursor; undefined if it is not visible. */
  async cursor(organizationId: string, id: string, orderBy: RunOrderBy): Promise<SqlParam[] | undefined> {
    const row = await this.db.get<{ k: SqlParam; id: string }>(
      `SELECT ${KEYSETS[orderBy].columns[0]} AS k, r.id AS id FROM runs r WHERE r.id = ? AND r.organization_id = ? AND r.deleted_at IS NULL`,
      [id, organizationId],
    );
    return row && [row.k, row.id];
  }

  async list(organizationId: string, filter: RunFilter, orderBy: RunOrderBy, page: PageRequest): Promise<Run[]> {
    const { joins, conditions, params } = runFilterSql(this.dialect, organizationId, filter);
    const plan = planPage(KEYSETS[orderBy], page);
    if (plan.where) conditions.push(plan.where);
    const rows = await this.db.values(
      `SELECT ${RUN_SELECT_R} FROM runs r${joins} WHERE ${conditions.join(" AND ")} ORDER BY ${plan.orderBy} LIMIT ?`,
      [...params, ...plan.params, plan.limit],
    );
    return applyOrder(rows, plan).map(runFromValues);
  }

  async count(organizationId: string, filter: RunFilter): Promise<number> {
    const { joins, conditions, params } = runFilterSql(this.dialect, organizationId, filter);
    const row = await this.db.get<{ n: number }>(`SELECT count(*) AS n FROM runs r${joins} WHERE ${conditions.join(" AND ")}`, params);
    return Number(row?.n ?? 0);
  }

  /** The nearest-rank percentile of total_duration_ns over the runs matching `filter` that have one. */
  async durationPercentile(organizationId: string, filter: RunFilter, percentile: number): Promise<number | undefined> {
    const { joins, conditions, params } = runFilterSql(this.dialect, organizationId, filter);
    conditions.push("r.total_duration_ns IS NOT NULL");
    const where = conditions.join(" AND ");
    const count = await this.db.get<{ n: number }>(`SELECT count(*) AS n FROM runs r${joins} WHERE ${where}`, params);
    const n = Number(count?.n ?? 0);
    if (n === 0) return undefined;
    const rank = Math.max(1, Math.ceil((percentile / 100) * n));
    const row = await this.db.get<{ d: number }>(
      `SELECT r.total_duration_ns AS d FROM runs r${joins} WHERE ${where} ORDER BY r.total_duration_ns LIMIT 1 OFFSET ?`,
      [...params, rank - 1],
    );
    return row === undefined ? undefined : Number(row.d);
  }
}

/**
 * The WHERE clause (and the run_metrics join some filters need) for a run filter, shared by
 * listing, counting, percentiles and statistics. The runs table is aliased `r`.
 */
export function runFilterSql(
dialect: Dialect,
organizationId: string,
filter: RunFilter,
): { joins: string; conditions: string[]; params: SqlParam[] } {
  const conditions = ["r.organization_id = ?", "r.deleted_at IS NULL"];
  const params: SqlParam[] = [organizationId];
  const add = (sql: string, ...values: SqlParam[]) => {
    conditions.push(sql);
    params.push(...values);
  };
  if (filter.agent_ids !== undefined) {
    if (filter.agent_ids.length === 1) add("r.agent_id = ?", filter.agent_ids[0]!);
    else add(`r.agent_id IN (${placeholders(filter.agent_ids.length)})`, ...filter.agent_ids);
  }
  if (filter.statuses !== undefined) {
    // Statuses are a closed set, written as literals so the planners can match the
    // partial index of active runs (a bound parameter never matches a partial index).
    const statuses = RUN_STATUSES.filter((s) => filter.statuses!.includes(s));
    if (statuses.length === 0) conditions.push("1 = 0");
    else if (statuses.length === 1) conditions.push(`r.status = '${statuses[0]!}'`);
    else conditions.push(`r.status IN (${statuses.map((s) => `'${s}'`).join(", ")})`);
  }
  if (filter.background !== undefined) add("r.background = ?", filter.background);
  if (filter.stop_reason !== undefined) add("r.stop_reason = ?", filter.stop_reason);
  if (filter.conversation_id !== undefined) add("r.conversation_id = ?", filter.conversation_id);
  if (filter.project_id !== undefined) add("r.project_id = ?", filter.project_id);
  if (filter.tags !== undefined && filter.tags.length > 0) add(dialect.jsonArrayHasAll("r.tags", filter.tags.length), ...filter.tags);
  if (filter.created_after !== undefined) add("r.created_at > ?", filter.created_after);
  if (filter.created_before !== undefined) add("r.created_at < ?", filter.created_before);
  if (filter.duration !== undefined) add(`r.total_duration_ns ${OPERATORS[filter.duration.operator]} ?`, filter.duration.value);
  if (filter.duration_at_least !== undefined) add("r.total_duration_ns >= ?", filter.duration_at_least);
  let joins = "";
  if (filter.step_count !== undefined || (filter.tools_used !== undefined && filter.tools_used.length > 0)) {
    joins = " JOIN run_metrics m ON m.id = r.id";
    if (filter.step_count !== undefined) add(`m.num_steps ${OPERATORS[filter.step_count.operator]} ?`, filter.step_count.value);
    if (filter.tools_used !== undefined && filter.tools_used.length > 0) {
      add(dialect.jsonArrayHasAny("m.tools_used", filter.tools_used.length), ...filter.tools_used);
    }
  }
  return { joins, conditions, params };
}

export function toRun(row: Record<string, unknown>): Run {
  return {
    id: row.id as string,
    agent_id: row.agent_id as string,
    status: row.status as RunStatus,
    stop_reason: (row.stop_reason as StopReason | null) ?? null,
    created_at: row.created_at as string,
    updated_at: row.updated_at as string,
    completed_at: (row.completed_at as string | null) ?? null,
    background: bool(row.background),
    metadata: json<JsonObject>(row.metadata),
    request_config: jsonOrNull<JsonObject>(row.request_config),
    conversation_id: (row.conversation_id as string | null) ?? null,
    project_id: (row.project_id as string | null) ?? null,
    base_template_id: (row.base_template_id as string | null) ?? null,
    callback_url: (row.callback_url as string | null) ?? null,
    callback_sent_at: (row.callback_sent_at as string | null) ?? null,
    callback_status_code: numberOrNull(row.callback_status_code),
    callback_error: (row.callback_error as string | null) ?? null,
    ttft_ns: numberOrNull(row.ttft_ns),
    total_duration_ns: numberOrNull(row.total_duration_ns),
    started_at: (row.started_at as string | null) ?? null,
    last_heartbeat_at: (row.last_heartbeat_at as string | null) ?? null,
    cancel_requested_at: (row.cancel_requested_at as string | null) ?? null,
    error: jsonOrNull<RunError>(row.error),
    tags: json<string[]>(row.tags),
    idempotency_key: (row.idempotency_key as string | null) ?? null,
    ttl_s: numberOrNull(row.ttl_s),
    max_duration_s: numberOrNull(row.max_duration_s),
    heartbeat_timeout_s: numberOrNull(row.heartbeat_timeout_s),
    deleted_at: (row.deleted_at as string | null) ?? null,
  };
}

/** A run from a row of RUN_COLUMNS, by position. */
function runFromValues(v: unknown[]): Run {
  return {
    id: v[0] as string,
    agent_id: v[1] as string,
    status: v[2] as RunStatus,
    stop_reason: (v[3] as StopReason | null) ?? null,
    created_at: v[4] as string,
    updated_at: v[5] as string,
    completed_at: (v[6] as string | null) ?? null,
    background: bool(v[7]),
    metadata: json<JsonObject>(v[8]),
    request_config: jsonOrNull<JsonObject>(v[9]),
    conversation_id: (v[10] as string | null) ?? null,
    project_id: (v[11] as string | null) ?? null,
    base_template_id: (v[12] as string | null) ?? null,
    callback_url: (v[13] as string | null) ?? null,
    callback_sent_at: (v[14] as string | null) ?? null,
    callback_status_code: numberOrNull(v[15]),
    callback_error: (v[16] as string | null) ?? null,
    ttft_ns: numberOrNull(v[17]),
    total_duration_ns: numberOrNull(v[18]),
    started_at: (v[19] as string | null) ?? null,
    last_heartbeat_at: (v[20] as string | null) ?? null,
    cancel_requested_at: (v[21] as string | null) ?? null,
    error: jsonOrNull<RunError>(v[22]),
    tags: json<string[]>(v[23]),
    idempotency_key: (v[24] as string | null) ?? null,
    ttl_s: numberOrNull(v[25]),
    max_duration_s: numberOrNull(v[26]),
    heartbeat_timeout_s: numberOrNull(v[27]),
    deleted_at: (v[28] as string | null) ?? null,
  };
}

export function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}
