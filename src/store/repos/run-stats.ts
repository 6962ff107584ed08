/**
 * Run statistics in SQL on both backends. Percentiles are nearest-rank (the smallest value
 * whose rank r satisfies r·100 ≥ p·n): PostgreSQL's percentile_disc on one side, window
 * ranks and integer arithmetic on SQLite, with identical answers; averages and rates are
 * left to the caller, from exact integer sums and counts.
 */
import type { Dialect, Executor, SqlParam } from "../executor.js";
import { runFilterSql, type RunFilter } from "./runs.js";

export type StatsGroupBy = "agent_id" | "status" | "stop_reason" | "model";
export type StatsBucket = "minute" | "hour" | "day";

export interface StatsRow {
  group: string | null;
  bucket: string | null;
  runs: number;
  by_status: Record<string, number>;
  duration: { count: number; sum: number; p50: number | null; p95: number | null; p99: number | null; max: number | null };
  ttft: { count: number; sum: number; p50: number | null; p95: number | null; p99: number | null; max: number | null };
  tokens: { prompt: number; completion: number; total: number; cached_input: number; cache_write: number; reasoning: number };
  steps: { total: number; max: number };
}

const PERCENTILES = [50, 95, 99] as const;

/** Counts, sums and maxima of one group (`f` rows), shared by both statements. */
const SUMS = `count(*) AS runs,
  sum(CASE WHEN status = 'created' THEN 1 ELSE 0 END) AS created,
  sum(CASE WHEN status = 'running' THEN 1 ELSE 0 END) AS running,
  sum(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) AS completed,
  sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,
  sum(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled,
  count(total_duration_ns) AS duration_count, coalesce(sum(total_duration_ns), 0) AS duration_sum, max(total_duration_ns) AS duration_max,
  count(ttft_ns) AS ttft_count, coalesce(sum(ttft_ns), 0) AS ttft_sum, max(ttft_ns) AS ttft_max,
  coalesce(sum(prompt_tokens), 0) AS prompt, coalesce(sum(completion_tokens), 0) AS completion, coalesce(sum(total_tokens), 0) AS total,
  coalesce(sum(cached_input_tokens), 0) AS cached_input, coalesce(sum(cache_write_tokens), 0) AS cache_write,
  coalesce(sum(reasoning_tokens), 0) AS reasoning,
  coalesce(sum(num_steps), 0) AS steps_total, coalesce(max(num_steps), 0) AS steps_max`;

const ORDER = "ORDER BY b NULLS FIRST, g NULLS FIRST";

/** SQLite: the counts, sums and maxima per group, in one plain GROUP BY. */
function sumsStatement(base: string): string {
  return `WITH f AS (${base}) SELECT g, b, ${SUMS} FROM f GROUP BY g, b ${ORDER}`;
}

/**
 * SQLite: the duration and TTFT percentiles per group, from rows narrowed to the group keys
 * and the two columns (`narrow` reads only runs unless a filter or group_by=model needs a
 * join). Each non-null value is ranked within its column and group, and the GROUP BY picks,
 * per percentile, the smallest value whose rank reaches it.
 */
function percentileStatement(narrow: string): string {
  const picks = PERCENTILES.map((p) => `min(CASE WHEN rn * 100 >= n * ${p} THEN x END) AS p${p}`).join(", ");
  return `WITH f AS (${narrow}),
    v AS (
      SELECT 'd' AS k, g, b, total_duration_ns AS x FROM f WHERE total_duration_ns IS NOT NULL
      UNION ALL
      SELECT 't' AS k, g, b, ttft_ns AS x FROM f WHERE ttft_ns IS NOT NULL
    )
    SELECT k, g, b, ${picks}
    FROM (SELECT k, g, b, x, row_number() OVER (PARTITION BY k, g, b ORDER BY x) AS rn, count(*) OVER (PARTITION BY k, g, b) AS n FROM v)
    GROUP BY k, g, b`;
}

/**
 * PostgreSQL: the ordered-set aggregate percentile_disc, which is the same nearest-rank
 * rule (the first value whose cumulative share reaches p; nulls ignored) and sorts each
 * column once per group instead of carrying every row through a window.
 */
function orderedSetStatement(base: string, withTotal: boolean): string {
  const fractions = `ARRAY[${PERCENTILES.map((p) => p / 100).join(", ")}]::float8[]`;
  const picks = (column: string, prefix: string) => {
    const all = `percentile_disc(${fractions}) WITHIN GROUP (ORDER BY ${column})`;
    return PERCENTILES.map((p, i) => `(${all})[${i + 1}] AS ${prefix}${p}`).join(", ");
  };
  const grouping = withTotal ? "GROUPING SETS ((g, b), ())" : "g, b";
  return `WITH f AS (${base})
    SELECT g, b, GROUPING(g, b) AS level, ${SUMS}, ${picks("total_duration_ns", "d")}, ${picks("ttft_ns", "t")}
    FROM f GROUP BY ${grouping} ${ORDER}`;
}

type Row = Record<string, unknown>;
type Pick = (kind: "d" | "t", percentile: number) => unknown;

export class RunStatsRepo {
  constructor(private readonly db: Executor, private readonly dialect: Dialect) {}

  /**
   * The statistics of every run matching `filter` (`summary`, undefined when none match)
   * and, with `groupBy` or `bucket`, of each group.
   */
  async report(
    organizationId: string,
    filter: RunFilter,
    groupBy: StatsGroupBy | undefined,
    bucket: StatsBucket | undefined,
  ): Promise<{ summary: StatsRow | undefined; groups: StatsRow[] }> {
    return this.dialect.name === "postgres" ? this.postgresReport(organizationId, filter, groupBy, bucket) : this.sqliteReport(organizationId, filter, groupBy, bucket);
  }

  /**
   * PostgreSQL: one statement per view. With group_by or bucket, the summary and the groups
   * come from one pass (GROUPING SETS), except by model: a run with two models is in two
   * groups but counts once in the summary.
   */
  private async postgresReport(organizationId: string, filter: RunFilter, groupBy: StatsGroupBy | undefined, bucket: StatsBucket | undefined) {
    const view = async (g: StatsGroupBy | undefined, b: StatsBucket | undefined, withTotal: boolean) => {
      const base = this.base(organizationId, filter, g, b);
      const rows = await this.db.all(orderedSetStatement(base.sql, withTotal), base.params);
      // GROUPING(g, b) is 3 on the grand-total row of GROUPING SETS.
      return rows.map((row) => ({ isTotal: Number(row.level ?? 0) === 3, row: statsRow(row, (kind, p) => row[`${kind}${p}`]) }));
    };
    const grouped = groupBy !== undefined || bucket !== undefined;
    if (grouped && groupBy !== "model") {
      const rows = await view(groupBy, bucket, true);
      const total = rows.find((r) => r.isTotal)?.row;
      // The empty grouping set yields a row even when no run matches; the other path yields none.
      return { summary: total !== undefined && total.runs > 0 ? total : undefined, groups: rows.filter((r) => !r.isTotal).map((r) => r.row) };
    }
    const [summary] = await view(undefined, undefined, false);
    return { summary: summary?.row, groups: grouped ? (await view(groupBy, bucket, false)).map((r) => r.row) : [] };
  }

  /**
   * SQLite: per view, a plain GROUP BY for the sums over runs ⋈ run_metrics, and one window
   * statement for both percentiles over rows narrowed to runs' own columns, so the sort
   * carries two keys and a value instead of every column of the join. With group_by (other
   * than model) or bucket, the summary's sums are added up from the groups'; only its
   * percentiles need a pass of their own.
   */
  private async sqliteReport(organizationId: string, filter: RunFilter, groupBy: StatsGroupBy | undefined, bucket: StatsBucket | undefined) {
    const sums = async (g: StatsGroupBy | undefined, b: StatsBucket | undefined) => {
      const base = this.base(organizationId, filter, g, b);
      return this.db.all(sumsStatement(base.sql), base.params);
    };
    const percentiles = async (g: StatsGroupBy | undefined, b: StatsBucket | undefined): Promise<Map<string, Row>> => {
      const narrow = this.base(organizationId, filter, g, b, true);
      const rows = await this.db.all(percentileStatement(narrow.sql), narrow.params);
      return new Map(rows.map((row) => [viewKey(row.k, row.g, row.b), row]));
    };
    const withPercentiles = (row: Row, picks: Map<string, Row>) => statsRow(row, (kind, p) => picks.get(viewKey(kind, row.g, row.b))?.[`p${p}`]);

    const grouped = groupBy !== undefined || bucket !== undefined;
    const totalPicks = await percentiles(undefined, undefined);
    if (!grouped) {
      const [total] = await sums(undefined, undefined);
      return { summary: total === undefined || Number(total.runs) === 0 ? undefined : withPercentiles(total, totalPicks), groups: [] };
    }
    const groupPicks = await percentiles(groupBy, bucket);
    const groups = (await sums(groupBy, bucket)).map((row) => withPercentiles(row, groupPicks));
    const totals = groupBy === "model" ? await sums(undefined, undefined) : [addUp(groups)];
    const total = totals[0];
    return { summary: total === undefined || Number(total.runs) === 0 ? undefined : withPercentiles(total, totalPicks), groups };
  }

  /** The most used tools over the filtered runs: how many runs used each. */
  async topTools(organizationId: string, filter: RunFilter, limit: number): Promise<{ tool: string; runs: number }[]> {
    const base = this.base(organizationId, filter, undefined, undefined);
    const rows = await this.db.all<{ tool: string; runs: number }>(
      `WITH f AS (${base.sql})
       SELECT t.value AS tool, count(*) AS runs FROM f, ${this.dialect.jsonArrayElements("f.tools_used", "t")}
       GROUP BY t.value ORDER BY count(*) DESC, t.value LIMIT ?`,
      [...base.params, limit],
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
