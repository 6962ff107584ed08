/**
 * Measures the statistics service on one populated database, case by case, against the
 * hand-written baselines: one warm-up call, then ITERATIONS timed calls of the service and
 * of both baselines, alternating which goes first so neither always runs on the other's
 * warm cache. The service's driver is wrapped so that each statement it sends is timed by
 * kind; on SQLite a statement's time is the synchronous call that runs it (statements sent
 * together run one after another), on PostgreSQL the time until it answers (statements sent
 * together run at once, on pooled connections). --explain keeps the plan of every distinct
 * statement and of the "SQL + percentiles" baseline (PostgreSQL: EXPLAIN (ANALYZE, BUFFERS)).
 */
import type { Ledger } from "../../src/ledger.js";
import type { RunStatsReport } from "../../src/services/stats.js";
import { storeOf } from "../../src/store/store.js";
import { fmt, fmtMs, hasFlag, markdownTable, median, timed } from "../stats.js";
import { baselineSql, type Case, cases, compare, selected } from "./cases.js";
import type { Env } from "./env.js";

const WARMUP = 1;
export const ITERATIONS = 5;

type Kind = "sums" | "group percentiles" | "rank reads" | "top tools" | "other";
const KINDS: Kind[] = ["sums", "group percentiles", "rank reads", "top tools"];

/** The kinds of statement RunStatsRepo sends (PostgreSQL's group statement computes the groups' sums too). */
function classify(sql: string): Kind {
  if (sql.includes("AS tool")) return "top tools";
  if (sql.includes("LIMIT 1 OFFSET")) return "rank reads";
  if (sql.includes("row_number()") || sql.includes("percentile_disc")) return "group percentiles";
  if (sql.includes("AS runs") || sql.includes("AS prompt") || sql.includes("_count")) return "sums";
  return "other";
}

interface Captured {
  kind: Kind;
  ms: number;
  sql: string;
  params: unknown[];
}

/** Wraps the driver's `all` and `get` so each statement the stats service issues is timed. */
function instrument(ledger: Ledger, backend: Env["backend"]): { calls: Captured[] } {
  const sink = { calls: [] as Captured[] };
  type Call = (sql: string, params?: unknown[]) => Promise<unknown>;
  const driver = storeOf(ledger).driver as unknown as { all: Call; get: Call };
  for (const method of ["all", "get"] as const) {
    const original = driver[method].bind(driver);
    driver[method] = async (sql, params) => {
      const started = process.hrtime.bigint();
      const answer = original(sql, params);
      const sync = Number(process.hrtime.bigint() - started) / 1e6;
      try {
        return await answer;
      } finally {
        const ms = backend === "sqlite" ? sync : Number(process.hrtime.bigint() - started) / 1e6;
        sink.calls.push({ kind: classify(sql), ms, sql, params: params ?? [] });
      }
    };
  }
  return sink;
}

export interface CaseResult {
  name: string;
  runs: number;
  groups: number;
  service: number[];
  aggregate: number[];
  withPercentiles: number[];
  perKind: Record<Kind, number[]>;
  statements: number;
  check: string;
}

/** Every selected case on `env`, with the plans when --explain is given. */
export async function measure(env: Env): Promise<{ results: CaseResult[]; window: string; plans: string[] }> {
  const bounds = (await env.raw("SELECT min(created_at) AS lo, max(created_at) AS hi FROM runs", []))[0]!;
  const lo = Date.parse(String(bounds.lo instanceof Date ? bounds.lo.toISOString() : bounds.lo));
  const hi = Date.parse(String(bounds.hi instanceof Date ? bounds.hi.toISOString() : bounds.hi));
  const dayStartMs = Math.floor((lo + hi) / 2 / 86_400_000) * 86_400_000;
  const dayStart = new Date(dayStartMs).toISOString();
  const dayEnd = new Date(dayStartMs + 86_400_000).toISOString();
  const sink = instrument(env.ledger, env.backend);
  const results: CaseResult[] = [];
  const plans: string[] = [];
  for (const c of selected(cases(env, dayStart, dayEnd))) {
    results.push(await measureCase(env, c, sink, plans));
  }
  return { results, window: `${dayStart} – ${dayEnd}`, plans };
}

async function measureCase(env: Env, c: Case, sink: { calls: Captured[] }, plans: string[]): Promise<CaseResult> {
  const aggregateSql = baselineSql(env, c, false);
  const percentileSql = baselineSql(env, c, true);
  const result: CaseResult = {
    name: c.name, runs: 0, groups: 0, service: [], aggregate: [], withPercentiles: [], statements: 0, check: "",
    perKind: { sums: [], "group percentiles": [], "rank reads": [], "top tools": [], other: [] },
  };
  let lastReport: RunStatsReport | undefined;
  let lastAggregate: Record<string, unknown>[] = [];
  let lastPercentiles: Record<string, unknown>[] = [];
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    const runService = async () => {
      sink.calls.length = 0;
      const [report, ms] = await timed(() => env.ledger.stats.stats(env.actor, c.query));
      lastReport = report;
      if (i < WARMUP) return;
      result.service.push(ms);
      result.statements = sink.calls.length;
      for (const kind of [...KINDS, "other" as const]) result.perKind[kind].push(sink.calls.filter((x) => x.kind === kind).reduce((a, x) => a + x.ms, 0));
    };
    const runBaselines = async () => {
      const [rowsA, msA] = await timed(() => env.raw(aggregateSql.sql, aggregateSql.params));
      const [rowsP, msP] = await timed(() => env.raw(percentileSql.sql, percentileSql.params));
      lastAggregate = rowsA;
      lastPercentiles = rowsP;
      if (i < WARMUP) return;
      result.aggregate.push(msA);
      result.withPercentiles.push(msP);
    };
    if (i % 2 === 0) {
      await runService();
      await runBaselines();
    } else {
      await runBaselines();
      await runService();
    }
  }
  if (hasFlag("--explain")) {
    const seen = new Set<string>();
    for (const call of sink.calls) {
      if (seen.has(call.sql)) continue;
      seen.add(call.sql);
      plans.push(`### ${env.backend} ${c.name}: ${call.kind} (${fmtMs(call.ms)} ms)\n${call.sql.replace(/\s+/g, " ").trim()}\n${await env.explain(call.sql, call.params)}`);
    }
    plans.push(`### ${env.backend} ${c.name}: SQL + percentiles baseline\n${await env.explain(percentileSql.sql, percentileSql.params)}`);
  }
  const report = lastReport!;
  result.runs = c.expected(report);
  result.groups = report.groups.length;
  result.check = compare(env.backend, c, report, lastAggregate, lastPercentiles);
  console.error(`${env.backend} ${c.name}: ${fmt(result.runs)} runs, service median ${fmtMs(median(result.service))} ms, SQL aggregate ${fmtMs(median(result.aggregate))} ms — ${result.check}`);
  return result;
}

/** The results as markdown: times per case, and the service's time per kind of statement. */
export function tables(results: readonly CaseResult[]): string {
  const head = markdownTable(
    ["case", "runs", "rows out", "service median", "service max", "SQL aggregate median", "SQL + percentiles median", "service ÷ SQL + percentiles", "check"],
    results.map((r) => [
      r.name,
      fmt(r.runs),
      fmt(Math.max(1, r.groups)),
      fmtMs(median(r.service)),
      fmtMs(Math.max(...r.service)),
      fmtMs(median(r.aggregate)),
      fmtMs(median(r.withPercentiles)),
      `${fmt(median(r.service) / median(r.withPercentiles), 2)}×`,
      r.check,
    ]),
  );
  const split = markdownTable(
    ["case", "statements per call", ...KINDS.map((k) => `${k} (median ms)`)],
    results.map((r) => [r.name, r.statements, ...KINDS.map((k) => fmtMs(median(r.perKind[k])))]),
  );
  return (
    `${head}\n\nWhere the service's time goes (per call, summed over the statements of each kind: sums; the groups' percentiles, ` +
    `which on PostgreSQL include the groups' sums; the percentiles read by rank; top tools):\n\n${split}`
  );
}
