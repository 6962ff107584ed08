/**
 * Run statistics in SQL on both backends. Percentiles are nearest-rank: the value of rank
 * k = ⌈p·n/100⌉ among the n non-null values. The summary's are read by rank from an index
 * on (organization_id, column), a walk along the index instead of a sort; the groups' come
 * from PostgreSQL's percentile_disc (the same rule) or, on SQLite, window ranks with integer
 * arithmetic, with identical answers. Averages and rates are left to the caller, from exact
 * integer sums and counts.
 */
import type { StatsBucket, StatsGroupBy } from "../../core/model.js";
import type { TokenTotals } from "../../core/reports.js";
import type { Dialect, Executor, SqlParam } from "../executor.js";
import { METRIC_SUMS, orderedSetStatement, PERCENTILES, percentileStatement, RUN_SUMS, sumsStatement } from "./run-stats-sql.js";
import { runFilterSql, type RunFilter } from "./runs.js";


export interface StatsRow {
  group: string | null;
  bucket: string | null;
  runs: number;
  by_status: Record<string, number>;
  duration: { count: number; sum: number; p50: number | null; p95: number | null; p99: number | null; max: number | null };
  ttft: { count: number; sum: number; p50: number | null; p95: number | null; p99: number | null; max: number | null };
  tokens: TokenTotals;
  steps: { total: number; max: number };
}

type Row = Record<string, unknown>;
type RankedColumn = "total_duration_ns" | "ttft_ns";
type Pick = (kind: "d" | "t", percentile: number) => unknown;

export class RunStatsRepo {
  constructor(private readonly db: Executor, private readonly dialect: Dialect) {}

  /**
   * The statistics of every run matching `filter` (`summary`, undefined when none match)
   * and, with `groupBy` or `bucket`, of each group.
   *
   * For a whole organization (no filter) the summary's percentiles are read by rank along
   * runs_org_duration and runs_org_ttft, and its sums are added up from the groups' when
   * the groups are disjoint (every grouping but by model, where a run with two models is in
   * two groups), so the runs are read once. A filtered summary is one more pass like a
   * group's: the filter's own index finds its runs, and sorting them is cheaper than walking
   * the organization's whole percentile index.
   */
  async report(
    organizationId: string,
    filter: RunFilter,
    groupBy: StatsGroupBy | undefined,
    bucket: StatsBucket | undefined,
  ): Promise<{ summary: StatsRow | undefined; groups: StatsRow[] }> {
    const grouped = groupBy !== undefined || bucket !== undefined;
    const groups = grouped ? await this.groups(organizationId, filter, groupBy, bucket) : [];
    const present = (row: StatsRow | undefined) => (row === undefined || row.runs === 0 ? undefined : row);
    if (!isEmpty(filter)) return { summary: present((await this.groups(organizationId, filter, undefined, undefined))[0]), groups };

    const totals = grouped && groupBy !== "model" ? addUp(groups) : await this.organizationSums(organizationId);
    if (Number(totals.runs) === 0) return { summary: undefined, groups };
    const ranked = {
      d: await this.byRank(organizationId, "total_duration_ns", Number(totals.duration_count)),
      t: await this.byRank(organizationId, "ttft_ns", Number(totals.ttft_count)),
    };
    return { summary: statsRow(totals, (kind, p) => ranked[kind][PERCENTILES.indexOf(p as (typeof PERCENTILES)[number])]), groups };
  }

  /**
   * The sums over every run of the organization, from runs and from run_metrics each read
   * alone (soft-deleted runs left out of the metrics by id) rather than joined row by row.
   */
  private async organizationSums(organizationId: string): Promise<Row> {
    const onRuns = await this.db.get(`SELECT ${RUN_SUMS} FROM runs r WHERE r.organization_id = ? AND r.deleted_at IS NULL`, [organizationId]);
    const onMetrics = await this.db.get(`SELECT ${METRIC_SUMS} FROM run_metrics m WHERE m.organization_id = ? AND ${NOT_DELETED}`, [organizationId, organizationId]);
    return { ...onRuns, ...onMetrics };
  }

  /**
   * The nearest-rank percentiles of `column` over the `count` runs of the organization that
   * have it: for each, the value at offset k − 1 in the column's order, a walk along
   * runs_org_duration or runs_org_ttft that sorts nothing.
   */
  private async byRank(organizationId: string, column: RankedColumn, count: number): Promise<(number | null)[]> {
    const values: (number | null)[] = [];
    for (const p of PERCENTILES) {
      if (count === 0) {
        values.push(null);
        continue;
      }
      const row = await this.valueAt(organizationId, {}, column, Math.floor((count * p + 99) / 100) - 1);
      values.push(row === undefined ? null : Number(row));
    }
    return values;
  }

  /** The value of `column` at `offset` (0-based) in ascending order over the filtered runs that have it. */
  async valueAt(organizationId: string, filter: RunFilter, column: RankedColumn, offset: number): Promise<number | undefined> {
    const { joins, conditions, params } = runFilterSql(this.dialect, organizationId, filter);
    const row = await this.db.get<{ x: unknown }>(
      `SELECT r.${column} AS x FROM runs r${joins} WHERE ${conditions.join(" AND ")} AND r.${column} IS NOT NULL ORDER BY r.${column} LIMIT 1 OFFSET ?`,
      [...params, offset],
    );
    return row === undefined || row.x === null ? undefined : Number(row.x);
  }

  /**
   * Each group's statistics. PostgreSQL: one statement. SQLite: a plain GROUP BY for the
   * sums over runs ⋈ run_metrics, and one window statement for both percentiles over rows
   * narrowed to runs' own columns, so the sort carries two keys and a value instead of every
   * column of the join.
   */
  private async groups(organizationId: string, filter: RunFilter, groupBy: StatsGroupBy | undefined, bucket: StatsBucket | undefined): Promise<StatsRow[]> {
    const base = this.base(organizationId, filter, groupBy, bucket);
    if (this.dialect.name === "postgres") {
      const rows = await this.db.all(orderedSetStatement(base.sql), base.params);
      return rows.map((row) => statsRow(row, (kind, p) => row[`${kind}${p}`]));
    }
    const narrow = this.base(organizationId, filter, groupBy, bucket, true);
    const picks = new Map((await this.db.all(percentileStatement(narrow.sql), narrow.params)).map((row) => [viewKey(row.k, row.g, row.b), row]));
    const sums = await this.db.all(sumsStatement(base.sql), base.params);
    return sums.map((row) => statsRow(row, (kind, p) => picks.get(viewKey(kind, row.g, row.b))?.[`p${p}`]));
  }

  /**
   * The most used tools over the filtered runs: how many runs used each. When every filter
   * is on a column run_metrics has too, its rows are read alone (a soft-deleted run is left
   * out by its id), not joined with runs one by one.
   */
  async topTools(organizationId: string, filter: RunFilter, limit: number): Promise<{ tool: string; runs: number }[]> {
    const source = onMetricsAlone(filter) ? metricsAlone(this.dialect, organizationId, filter) : this.base(organizationId, filter, undefined, undefined);
    const rows = await this.db.all<{ tool: string; runs: number }>(
      `WITH f AS (${source.sql})
       SELECT t.value AS tool, count(*) AS runs FROM f, ${this.dialect.jsonArrayElements("f.tools_used", "t")}
       GROUP BY t.value ORDER BY count(*) DESC, t.value LIMIT ?`,
      [...source.params, limit],
    );
    return rows.map((r) => ({ tool: r.tool, runs: Number(r.runs) }));
  }

  /**
   * The filtered runs with their group and bucket keys, joined with their metrics; `narrow`
   * selects only the keys, duration and TTFT, and joins run_metrics only when a filter needs it.
   */
  private base(organizationId: string, filter: RunFilter, groupBy: StatsGroupBy | undefined, bucket: StatsBucket | undefined, narrow = false) {
    const { joins, conditions, params } = runFilterSql(this.dialect, organizationId, filter);
    const metricsJoin = joins.includes("run_metrics") || narrow ? joins : `${joins} JOIN run_metrics m ON m.id = r.id`;
    // Only this organization's steps (and one agent's, when the filter names one), by index.
    const agentScope = filter.agent_ids?.length === 1 ? " AND agent_id = ?" : "";
    const modelJoin =
      groupBy === "model" ? ` JOIN (SELECT DISTINCT run_id, model FROM steps WHERE organization_id = ?${agentScope}) sm ON sm.run_id = r.id` : "";
    const modelParams: SqlParam[] = groupBy !== "model" ? [] : agentScope ? [organizationId, filter.agent_ids![0]!] : [organizationId];
    const group = groupBy === undefined ? "NULL" : groupBy === "model" ? "sm.model" : `r.${groupBy}`;
    const bucketSql = bucket === undefined ? "NULL" : this.dialect.timeBucket("r.created_at", bucket);
    const columns = narrow
      ? "r.total_duration_ns, r.ttft_ns"
      : `r.status, r.total_duration_ns, r.ttft_ns, m.num_steps, m.tools_used,
              m.prompt_tokens, m.completion_tokens, m.total_tokens, m.cached_input_tokens, m.cache_write_tokens, m.reasoning_tokens`;
    return {
      sql: `SELECT ${group} AS g, ${bucketSql} AS b, ${columns} FROM runs r${metricsJoin}${modelJoin} WHERE ${conditions.join(" AND ")}`,
      params: [...modelParams, ...(params as SqlParam[])],
    };
  }
}

/**
 * The filters that run_metrics can answer without runs, for an organization-wide read (it
 * repeats the agent and project too, but has no index for them: runs finds those faster).
 */
const METRICS_FILTERS: ReadonlySet<string> = new Set(["step_count", "tools_used"]);

/** run_metrics rows of runs that are not soft-deleted; binds the organization id (the partial index runs_deleted finds the others). */
const NOT_DELETED = "m.id NOT IN (SELECT d.id FROM runs d WHERE d.organization_id = ? AND d.deleted_at IS NOT NULL)";

function isEmpty(filter: RunFilter): boolean {
  return Object.values(filter).every((value) => value === undefined);
}

function onMetricsAlone(filter: RunFilter): boolean {
  return Object.entries(filter).every(([name, value]) => value === undefined || METRICS_FILTERS.has(name));
}

/**
 * The filtered runs' tools_used from run_metrics alone, for a filter that `onMetricsAlone`
 * accepts: the list's conditions (the organization's moved from runs to run_metrics), and
 * soft-deleted runs excluded through the partial index on runs.deleted_at.
 */
function metricsAlone(dialect: Dialect, organizationId: string, filter: RunFilter): { sql: string; params: SqlParam[] } {
  const { conditions, params } = runFilterSql(dialect, organizationId, filter);
  const onMetrics = conditions.filter((c) => c !== "r.deleted_at IS NULL").map((c) => c.replace(/^r\.organization_id /, "m.organization_id "));
  return {
    sql: `SELECT m.tools_used FROM run_metrics m WHERE ${onMetrics.join(" AND ")} AND ${NOT_DELETED}`,
    params: [...params, organizationId],
  };
}

/** The key of one percentile row: column kind, group and bucket (either may be null). */
function viewKey(kind: unknown, group: unknown, bucket: unknown): string {
  return JSON.stringify([kind, group ?? null, bucket ?? null]);
}

/** A statement's row of counts and sums, with the percentiles `pick` finds for it. */
function statsRow(row: Row, pick: Pick): StatsRow {
  const n = (column: string) => Number(row[column] ?? 0);
  const nullable = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  const distribution = (kind: "d" | "t", prefix: string) => ({
    count: n(`${prefix}_count`),
    sum: n(`${prefix}_sum`),
    max: nullable(row[`${prefix}_max`]),
    p50: nullable(pick(kind, 50)),
    p95: nullable(pick(kind, 95)),
    p99: nullable(pick(kind, 99)),
  });
  return {
    group: (row.g as string | null) ?? null,
    bucket: (row.b as string | null) ?? null,
    runs: n("runs"),
    by_status: { created: n("created"), running: n("running"), completed: n("completed"), failed: n("failed"), cancelled: n("cancelled") },
    duration: distribution("d", "duration"),
    ttft: distribution("t", "ttft"),
    tokens: {
      prompt: n("prompt"),
      completion: n("completion"),
      total: n("total"),
      cached_input: n("cached_input"),
      cache_write: n("cache_write"),
      reasoning: n("reasoning"),
    },
    steps: { total: n("steps_total"), max: n("steps_max") },
  };
}

/**
 * The sums row of the union of disjoint groups, in the sums statement's column names:
 * counts and sums add up, maxima take the largest. Only for groups that never share a run.
 */
function addUp(groups: readonly StatsRow[]): Row {
  const sum = (of: (g: StatsRow) => number) => groups.reduce((total, g) => total + of(g), 0);
  const max = (of: (g: StatsRow) => number | null) =>
    groups.reduce<number | null>((top, g) => {
      const value = of(g);
      return value === null || (top !== null && top >= value) ? top : value;
    }, null);
  const row: Row = {
    g: null,
    b: null,
    runs: sum((g) => g.runs),
    duration_count: sum((g) => g.duration.count),
    duration_sum: sum((g) => g.duration.sum),
    duration_max: max((g) => g.duration.max),
    ttft_count: sum((g) => g.ttft.count),
    ttft_sum: sum((g) => g.ttft.sum),
    ttft_max: max((g) => g.ttft.max),
    steps_total: sum((g) => g.steps.total),
    steps_max: max((g) => g.steps.max) ?? 0,
  };
  for (const status of Object.keys(groups[0]?.by_status ?? {})) row[status] = sum((g) => g.by_status[status]!);
  for (const kind of ["prompt", "completion", "total", "cached_input", "cache_write", "reasoning"] as const) row[kind] = sum((g) => g.tokens[kind]);
  return row;
}
