/**
 * Run statistics in SQL on both backends. Percentiles are nearest-rank: the value of rank
 * k = ⌈p·n/100⌉ among the n non-null values. A whole organization's (unfiltered, as a
 * summary or per status) are read by rank along indexes, with no sort (run-stats-indexed.ts);
 * the other groups' come from PostgreSQL's percentile_disc (the same rule) or, on SQLite,
 * window ranks with integer arithmetic, with identical answers. Averages and rates are left
 * to the caller, from exact integer sums and counts.
 */
import type { StatsBucket, StatsGroupBy } from "../../core/model.js";
import type { Dialect, Executor, SqlParam } from "../executor.js";
import { IndexedStats, NOT_DELETED, type RankedGroup } from "./run-stats-indexed.js";
import { addUp, statsRow, type StatsRow } from "./run-stats-rows.js";
import { orderedSetStatement, PERCENTILES, percentileStatement, sumsStatement } from "./run-stats-sql.js";
import { runFilterSql, type RunFilter } from "./runs.js";

export type { StatsRow } from "./run-stats-rows.js";

export class RunStatsRepo {
  private readonly indexed: IndexedStats;

  constructor(private readonly db: Executor, private readonly dialect: Dialect) {
    this.indexed = new IndexedStats(db);
  }

  /**
   * The statistics of every run matching `filter` (`summary`, undefined when none match)
   * and, with `groupBy` or `bucket`, of each group.
   *
   * For a whole organization (no filter) the summary's sums are added up from the groups'
   * when the groups are disjoint (every grouping but by model, where a run with two models
   * is in two groups), or else read from run_metrics and the duration and TTFT indexes
   * alone; its percentiles are read by rank along those indexes. Grouped by status alone,
   * the groups are read the same way, per status. A filtered summary is one more pass like
   * a group's: the filter's own index finds its runs, and sorting them is cheaper than
   * walking the organization's whole percentile index.
   */
  async report(
    organizationId: string,
    filter: RunFilter,
    groupBy: StatsGroupBy | undefined,
    bucket: StatsBucket | undefined,
  ): Promise<{ summary: StatsRow | undefined; groups: StatsRow[] }> {
    const grouped = groupBy !== undefined || bucket !== undefined;
    const present = (row: StatsRow | undefined) => (row === undefined || row.runs === 0 ? undefined : row);
    if (!isEmpty(filter)) {
      const groups = grouped ? await this.groups(organizationId, filter, groupBy, bucket) : [];
      return { summary: present((await this.groups(organizationId, filter, undefined, undefined))[0]), groups };
    }
    const groups =
      groupBy === "status" && bucket === undefined ? await this.indexed.byStatus(organizationId)
      : grouped ? await this.groups(organizationId, filter, groupBy, bucket)
      : [];
    const totals = grouped && groupBy !== "model" ? addUp(groups) : (await this.indexed.sums(organizationId, false))[0];
    if (totals === undefined || Number(totals.runs) === 0) return { summary: undefined, groups };
    const whole = { durationCount: Number(totals.duration_count ?? 0), ttftCount: Number(totals.ttft_count ?? 0) };
    const [ranked] = await this.indexed.percentiles(organizationId, [whole]);
    return { summary: statsRow(totals, (kind, p) => ranked![kind][PERCENTILES.indexOf(p as (typeof PERCENTILES)[number])]), groups };
  }

  /**
   * The nearest-rank percentiles of duration and TTFT over the organization's runs (or one
   * status's), read by rank along the indexes that hold them in order.
   */
  percentilesByRank(organizationId: string, groups: readonly RankedGroup[]): Promise<{ d: (number | null)[]; t: (number | null)[] }[]> {
    return this.indexed.percentiles(organizationId, groups);
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
