/**
 * Run statistics in SQL, written once for both backends. Percentiles are nearest-rank (the
 * smallest value whose rank r satisfies r·100 ≥ p·n), computed with window functions and
 * integer arithmetic so SQLite and PostgreSQL give identical answers; averages and rates are
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

/**
 * SQLite: one pass in which window functions rank durations and TTFTs within each group
 * (nulls in a partition of their own), and the same GROUP BY picks the percentiles beside
 * the sums.
 */
function windowStatement(base: string): string {
  const picks = (column: string, rank: string, count: string, prefix: string) =>
    PERCENTILES.map((p) => `min(CASE WHEN ${column} IS NOT NULL AND ${rank} * 100 >= ${count} * ${p} THEN ${column} END) AS ${prefix}${p}`).join(", ");
  return `WITH f AS (${base}),
    ranked AS (
      SELECT g, b, status, total_duration_ns, ttft_ns, num_steps, prompt_tokens, completion_tokens, total_tokens,
        cached_input_tokens, cache_write_tokens, reasoning_tokens,
        row_number() OVER (PARTITION BY g, b, total_duration_ns IS NULL ORDER BY total_duration_ns) AS drn,
        count(total_duration_ns) OVER (PARTITION BY g, b) AS dn,
        row_number() OVER (PARTITION BY g, b, ttft_ns IS NULL ORDER BY ttft_ns) AS trn,
        count(ttft_ns) OVER (PARTITION BY g, b) AS tn
      FROM f
    )
    SELECT g, b, ${SUMS}, ${picks("total_duration_ns", "drn", "dn", "d")}, ${picks("ttft_ns", "trn", "tn", "t")}
    FROM ranked GROUP BY g, b ${ORDER}`;
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

export class RunStatsRepo {
  constructor(private readonly db: Executor, private readonly dialect: Dialect) {}

  /**
   * The statistics of every run matching `filter` (`summary`, undefined when none match)
   * and, with `groupBy` or `bucket`, of each group. On PostgreSQL both come from one pass
   * (GROUPING SETS), except by model: a run with two models is in two groups but counts once
   * in the summary.
   */
  async report(
    organizationId: string,
    filter: RunFilter,
    groupBy: StatsGroupBy | undefined,
    bucket: StatsBucket | undefined,
  ): Promise<{ summary: StatsRow | undefined; groups: StatsRow[] }> {
    const grouped = groupBy !== undefined || bucket !== undefined;
    if (grouped && this.dialect.name === "postgres" && groupBy !== "model") {
      const rows = await this.rows(organizationId, filter, groupBy, bucket, true);
      const total = rows.find((r) => r.isTotal);
      // The empty grouping set yields a row even when no run matches; the other path yields none.
      return { summary: total !== undefined && total.runs > 0 ? total : undefined, groups: rows.filter((r) => !r.isTotal) };
    }
    const [summary] = await this.rows(organizationId, filter, undefined, undefined, false);
    return { summary, groups: grouped ? await this.rows(organizationId, filter, groupBy, bucket, false) : [] };
  }

  private async rows(
    organizationId: string,
    filter: RunFilter,
    groupBy: StatsGroupBy | undefined,
    bucket: StatsBucket | undefined,
    withTotal: boolean,
  ): Promise<(StatsRow & { isTotal: boolean })[]> {
    const base = this.base(organizationId, filter, groupBy, bucket);
    const sql = this.dialect.name === "postgres" ? orderedSetStatement(base.sql, withTotal) : windowStatement(base.sql);
    const aggregates = await this.db.all(sql, base.params);
    return aggregates.map((row) => {
      const n = (column: string) => Number(row[column] ?? 0);
      const nullable = (value: unknown) => (value === null || value === undefined ? null : Number(value));
      return {
        // GROUPING(g, b) is 3 on the grand-total row of GROUPING SETS.
        isTotal: Number(row.level ?? 0) === 3,
        group: (row.g as string | null) ?? null,
        bucket: (row.b as string | null) ?? null,
        runs: n("runs"),
        by_status: { created: n("created"), running: n("running"), completed: n("completed"), failed: n("failed"), cancelled: n("cancelled") },
        duration: { count: n("duration_count"), sum: n("duration_sum"), max: nullable(row.duration_max), p50: nullable(row.d50), p95: nullable(row.d95), p99: nullable(row.d99) },
        ttft: { count: n("ttft_count"), sum: n("ttft_sum"), max: nullable(row.ttft_max), p50: nullable(row.t50), p95: nullable(row.t95), p99: nullable(row.t99) },
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
    });
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

  private base(organizationId: string, filter: RunFilter, groupBy: StatsGroupBy | undefined, bucket: StatsBucket | undefined) {
    const { joins, conditions, params } = runFilterSql(this.dialect, organizationId, filter);
    const metricsJoin = joins.includes("run_metrics") ? joins : `${joins} JOIN run_metrics m ON m.id = r.id`;
    // Only this organization's steps (and one agent's, when the filter names one), by index.
    const agentScope = filter.agent_ids?.length === 1 ? " AND agent_id = ?" : "";
    const modelJoin =
      groupBy === "model" ? ` JOIN (SELECT DISTINCT run_id, model FROM steps WHERE organization_id = ?${agentScope}) sm ON sm.run_id = r.id` : "";
    const modelParams: SqlParam[] = groupBy !== "model" ? [] : agentScope ? [organizationId, filter.agent_ids![0]!] : [organizationId];
    const group = groupBy === undefined ? "NULL" : groupBy === "model" ? "sm.model" : `r.${groupBy}`;
    const bucketSql = bucket === undefined ? "NULL" : this.dialect.timeBucket("r.created_at", bucket);
    return {
      sql: `SELECT ${group} AS g, ${bucketSql} AS b, r.status, r.total_duration_ns, r.ttft_ns, m.num_steps, m.tools_used,
              m.prompt_tokens, m.completion_tokens, m.total_tokens, m.cached_input_tokens, m.cache_write_tokens, m.reasoning_tokens
            FROM runs r${metricsJoin}${modelJoin} WHERE ${conditions.join(" AND ")}`,
      params: [...modelParams, ...(params as SqlParam[])],
    };
  }
}
