/**
 * The statistics cases and their hand-written baselines. Cases: (a) the whole organization;
 * (b) one agent; (c) one UTC day in hourly buckets; (d) group_by status over the whole
 * organization; (e) one agent grouped by model. Baselines, run on the bench's own raw
 * connection:
 *   - "SQL aggregate": the core aggregate (counts by status, sums, maxima, token totals,
 *     steps) in one statement over runs ⋈ run_metrics with the same WHERE and GROUP BY;
 *   - "SQL + percentiles": the same statement plus p50/p95/p99 of duration and TTFT via the
 *     built-in `percentile_disc` ordered-set aggregate (PostgreSQL: nearest rank, exactly the
 *     service's figures; SQLite's percentile_disc picks the lower neighbour, so its values
 *     may be one rank off).
 */
import type { RunStatsQuery, RunStatsReport } from "../../src/services/stats.js";
import type { Backend, Env } from "./env.js";

export interface Case {
  name: string;
  query: RunStatsQuery;
  /** WHERE beyond the organization, and its parameters. */
  where: string;
  params: unknown[];
  /** The grouping expression, or undefined for one summary row. */
  group?: string;
  /** Extra join for the grouping, and its parameters (bound before the WHERE's). */
  join?: string;
  joinParams?: unknown[];
  /** The `.runs` the service should report. */
  expected(report: RunStatsReport): number;
}

function hourBucket(backend: Backend): string {
  return backend === "sqlite"
    ? "strftime('%Y-%m-%dT%H:00:00.000Z', r.created_at)"
    : `to_char(date_trunc('hour', r.created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** Every case; `dayStart`–`dayEnd` is the UTC day of case (c). */
export function cases(env: Env, dayStart: string, dayEnd: string): Case[] {
  const agent = env.agentIds[Math.floor(env.agentIds.length / 2)]!;
  const summary = (report: RunStatsReport) => report.summary.runs;
  return [
    { name: "(a) whole organization", query: {}, where: "", params: [], expected: summary },
    { name: "(b) one agent (agent_id)", query: { agent_id: agent }, where: " AND r.agent_id = ?", params: [agent], expected: summary },
    {
      name: "(c) one day, bucket=hour",
      query: { created_after: dayStart, created_before: dayEnd, bucket: "hour" },
      where: " AND r.created_at > ? AND r.created_at < ?",
      params: [dayStart, dayEnd],
      group: hourBucket(env.backend),
      expected: summary,
    },
    { name: "(d) whole organization, group_by=status", query: { group_by: "status" }, where: "", params: [], group: "r.status", expected: summary },
    {
      name: "(e) one agent, group_by=model",
      query: { agent_id: agent, group_by: "model" },
      where: " AND r.agent_id = ?",
      params: [agent],
      group: "sm.model",
      join: " JOIN (SELECT DISTINCT run_id, model FROM steps WHERE organization_id = ? AND agent_id = ?) sm ON sm.run_id = r.id",
      joinParams: [env.actor.organization_id, agent],
      expected: summary,
    },
  ];
}

/** The cases `--cases=…` names (all without it), by their letters. */
export function selected(all: readonly Case[]): Case[] {
  const only = process.argv.find((a) => a.startsWith("--cases="))?.slice("--cases=".length);
  return all.filter((c) => only === undefined || only.includes(c.name[1]!));
}

const AGGREGATE = `count(*) AS runs,
  sum(CASE WHEN r.status = 'created' THEN 1 ELSE 0 END) AS created, sum(CASE WHEN r.status = 'running' THEN 1 ELSE 0 END) AS running,
  sum(CASE WHEN r.status = 'completed' THEN 1 ELSE 0 END) AS completed, sum(CASE WHEN r.status = 'failed' THEN 1 ELSE 0 END) AS failed,
  sum(CASE WHEN r.status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled,
  count(r.total_duration_ns) AS duration_count, sum(r.total_duration_ns) AS duration_sum, max(r.total_duration_ns) AS duration_max,
  count(r.ttft_ns) AS ttft_count, sum(r.ttft_ns) AS ttft_sum, max(r.ttft_ns) AS ttft_max,
  sum(m.prompt_tokens) AS prompt, sum(m.completion_tokens) AS completion, sum(m.total_tokens) AS total,
  sum(m.cached_input_tokens) AS cached_input, sum(m.cache_write_tokens) AS cache_write, sum(m.reasoning_tokens) AS reasoning,
  sum(m.num_steps) AS steps_total, max(m.num_steps) AS steps_max`;

function percentileColumns(backend: Backend): string {
  if (backend === "postgres") {
    return `, percentile_disc(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY r.total_duration_ns) AS duration_p,
      percentile_disc(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY r.ttft_ns) AS ttft_p`;
  }
  return ["total_duration_ns", "ttft_ns"]
    .flatMap((c) => [50, 95, 99].map((p) => `percentile_disc(r.${c}, ${p / 100}) AS ${c === "ttft_ns" ? "ttft" : "duration"}_p${p}`))
    .map((s) => `, ${s}`)
    .join("");
}

/** The baseline statement of a case, with or without the percentiles. */
export function baselineSql(env: Env, c: Case, withPercentiles: boolean): { sql: string; params: unknown[] } {
  const g = c.group === undefined ? "" : `${c.group} AS g, `;
  const sql = `SELECT ${g}${AGGREGATE}${withPercentiles ? percentileColumns(env.backend) : ""}
    FROM runs r JOIN run_metrics m ON m.id = r.id${c.join ?? ""}
    WHERE r.organization_id = ? AND r.deleted_at IS NULL${c.where}${c.group === undefined ? "" : " GROUP BY 1"}`;
  return { sql, params: [...(c.joinParams ?? []), env.actor.organization_id, ...c.params] };
}

/** The service's figures against the baselines': counts and token sums always, percentiles on PostgreSQL. */
export function compare(backend: Backend, c: Case, report: RunStatsReport, aggregate: Record<string, unknown>[], percentiles: Record<string, unknown>[]): string {
  const problems: string[] = [];
  const rows = c.group === undefined ? [{ key: null as string | null, stats: report.summary }] : report.groups.map((g) => ({ key: (g.group ?? g.bucket) as string, stats: g as typeof report.summary }));
  const byKey = new Map(aggregate.map((r) => [c.group === undefined ? null : String(r.g), r]));
  const pByKey = new Map(percentiles.map((r) => [c.group === undefined ? null : String(r.g), r]));
  if (rows.length !== aggregate.length) problems.push(`${rows.length} groups vs ${aggregate.length}`);
  for (const { key, stats } of rows) {
    const a = byKey.get(key);
    if (a === undefined) {
      problems.push(`group ${key} missing from SQL`);
      continue;
    }
    if (Number(a.runs) !== stats.runs) problems.push(`${key ?? "summary"}: runs ${stats.runs} vs ${String(a.runs)}`);
    if (Number(a.total ?? 0) !== stats.tokens.total) problems.push(`${key ?? "summary"}: tokens ${stats.tokens.total} vs ${String(a.total)}`);
    if (Number(a.failed) !== stats.by_status.failed) problems.push(`${key ?? "summary"}: failed ${stats.by_status.failed} vs ${String(a.failed)}`);
    if (backend === "postgres") {
      const p = pByKey.get(key)!;
      const dp = (p.duration_p as (number | string | null)[] | null) ?? [null, null, null];
      const tp = (p.ttft_p as (number | string | null)[] | null) ?? [null, null, null];
      const want = [stats.duration_ns.p50, stats.duration_ns.p95, stats.duration_ns.p99, stats.ttft_ns.p50, stats.ttft_ns.p95, stats.ttft_ns.p99];
      const got = [...dp, ...tp].map((v) => (v === null ? null : Number(v)));
      if (want.join() !== got.join()) problems.push(`${key ?? "summary"}: percentiles ${want.join("/")} vs ${got.join("/")}`);
    }
  }
  if (problems.length > 0) return `MISMATCH: ${problems.slice(0, 3).join("; ")}`;
  return backend === "postgres" ? "counts, tokens and percentiles match the SQL" : "counts and tokens match the SQL";
}
