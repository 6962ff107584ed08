/**
 * Run statistics at scale: `ledger.stats.stats(actor, query)` over 1,000,000 runs (1,000
 * agents, 30 days, mixed statuses, durations, TTFT, tokens, tools; one step row per started
 * run, with a model) on SQLite (a file in WAL mode) and PostgreSQL, against hand-written SQL.
 *
 *   npx tsx bench/ops-stats.ts [--quick] [--rebuild] [--sqlite-only | --postgres-only] [--explain] [--cases=abcde]
 *
 * Cases: the whole organization; one agent; one UTC day in hourly buckets; group_by status
 * over the whole organization; one agent grouped by model. Each is run once to warm up,
 * then ITERATIONS times; the table shows the median and the max. Baselines, run on a
 * separate raw connection in alternation with the service:
 *   - "SQL aggregate": the core aggregate (counts by status, sums, maxima, token totals,
 *     steps) in one statement over runs ⋈ run_metrics with the same WHERE and GROUP BY;
 *   - "SQL + percentiles": the same statement plus p50/p95/p99 of duration and TTFT via the
 *     built-in `percentile_disc` ordered-set aggregate (PostgreSQL: nearest rank, exactly the
 *     service's figures; SQLite's percentile_disc picks the lower neighbour, so its values
 *     may be one rank off).
 * The service issues several statements per call; a second table splits its time by
 * statement. --explain prints (to stderr) the plan of every distinct statement the service
 * issued and of the "SQL + percentiles" baseline (PostgreSQL: EXPLAIN (ANALYZE, BUFFERS)).
 * --cases=ce runs only cases (c) and (e).
 *
 * SQLite's populated file is cached in bench/.data/ (keyed by size, schema and generator);
 * PostgreSQL gets a fresh schema that is dropped at the end. Population writes raw SQL in big
 * transactions (see bench/ops-data.ts), then PostgreSQL runs VACUUM ANALYZE. SQLite gets no
 * ANALYZE, as runledger never runs one.
 *
 * RUNLEDGER_BENCH_POSTGRES_URL overrides postgres://postgres@127.0.0.1:5432/test.
 */
import Database from "better-sqlite3";
import { createHash } from "node:crypto";
import { existsSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Actor } from "../src/core/model.js";
import { openLedger, type Ledger } from "../src/ledger.js";
import type { RunStatsQuery, RunStatsReport } from "../src/services/stats.js";
import { SQLITE_MIGRATIONS } from "../src/store/sqlite/migrations.js";
import { generateRuns, insertRunsPostgres, insertRunsSqlite, scratchPostgres, toDollar } from "./ops-data.js";
import { fmt, hasFlag, markdownTable, msSince } from "./stats.js";
import { storeOf } from "../src/store/store.js";

type Backend = "sqlite" | "postgres";

const QUICK = hasFlag("--quick");
const RUNS = QUICK ? 20_000 : 1_000_000;
const AGENTS = QUICK ? 100 : 1_000;
const DAYS = 30;
const WARMUP = 1;
const ITERATIONS = 5;
const SEED = 7;
const PG_URL = process.env.RUNLEDGER_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const BACKENDS: Backend[] = hasFlag("--sqlite-only") ? ["sqlite"] : hasFlag("--postgres-only") ? ["postgres"] : ["sqlite", "postgres"];
/** Bump when the generator changes what it writes, so cached databases are rebuilt. */
const POPULATE_VERSION = 1;

const schemaTag = createHash("sha256")
  .update(`${POPULATE_VERSION}:${SQLITE_MIGRATIONS.map((m) => m.sql).join("\n")}`)
  .digest("hex")
  .slice(0, 8);
const SQLITE_FILE = join(fileURLToPath(new URL("./.data/", import.meta.url)), `ops-stats-${RUNS}-${AGENTS}-${schemaTag}.db`);

// ---------------------------------------------------------------------------------------
// Environments: a populated ledger plus a raw connection for the baselines.

interface Env {
  backend: Backend;
  ledger: Ledger;
  actor: Actor;
  agentIds: string[];
  /** Raw SQL with `?` placeholders on a connection of its own. */
  raw(sql: string, params: unknown[]): Promise<Record<string, unknown>[]>;
  /** The plan of a statement (`?` placeholders). */
  explain(sql: string, params: unknown[]): Promise<string>;
  populateSeconds: number | undefined;
  close(): Promise<void>;
}

async function createOrgAndAgents(ledger: Ledger): Promise<{ actor: Actor; agentIds: string[] }> {
  const org = await ledger.organizations.createTrusted("bench stats");
  const actor: Actor = { organization_id: org.id, role: "write" };
  const agentIds: string[] = [];
  for (let i = 0; i < AGENTS; i++) agentIds.push((await ledger.agents.create(actor, { name: `agent ${i}` })).id);
  return { actor, agentIds };
}

function progress(label: string, started: bigint) {
  return (written: number) => console.error(`${label}: ${fmt(written)} / ${fmt(RUNS)} runs (${fmt(msSince(started) / 1000, 1)} s)`);
}

async function sqliteEnv(): Promise<Env> {
  let populateSeconds: number | undefined;
  if (hasFlag("--rebuild") || !existsSync(SQLITE_FILE)) {
    // Built under a temporary name and renamed when complete, so an interrupted build is never reused.
    const building = `${SQLITE_FILE}.building`;
    for (const file of [SQLITE_FILE, building]) for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
    const started = process.hrtime.bigint();
    const ledger = await openLedger({ url: `sqlite:${building}` });
    const { actor, agentIds } = await createOrgAndAgents(ledger);
    await ledger.close();
    const db = new Database(building);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = OFF");
    db.pragma("cache_size = -1000000");
    const end = Date.now();
    insertRunsSqlite(db, actor.organization_id, generateRuns({ count: RUNS, agentIds, fromMs: end - DAYS * 86_400_000, toMs: end, seed: SEED }), {
      onProgress: progress("sqlite: populating", started),
    });
    db.pragma("wal_checkpoint(TRUNCATE)");
    db.close();
    for (const suffix of ["-wal", "-shm"]) rmSync(building + suffix, { force: true });
    renameSync(building, SQLITE_FILE);
    populateSeconds = msSince(started) / 1000;
  }
  console.error(`sqlite: ${SQLITE_FILE} (${fmt(statSync(SQLITE_FILE).size / 2 ** 20)} MiB)`);
  const ledger = await openLedger({ url: `sqlite:${SQLITE_FILE}` });
  const db = new Database(SQLITE_FILE, { readonly: true });
  const orgId = db.prepare("SELECT id FROM organizations").pluck().get() as string;
  const agentIds = db.prepare("SELECT id FROM agents ORDER BY created_at, id").pluck().all() as string[];
  const norm = (params: unknown[]) => params.map((p) => (typeof p === "boolean" ? (p ? 1 : 0) : p));
  return {
    backend: "sqlite",
    ledger,
    actor: { organization_id: orgId, role: "write" },
    agentIds,
    populateSeconds,
    raw: async (sql, params) => db.prepare(sql).all(...norm(params)) as Record<string, unknown>[],
    explain: async (sql, params) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...norm(params)) as { id: number; parent: number; detail: string }[])
        .map((r) => `${r.parent === 0 ? "" : "  "}${r.detail}`)
        .join("\n"),
    async close() {
      db.close();
      await ledger.close();
    },
  };
}

async function postgresEnv(): Promise<Env> {
  const started = process.hrtime.bigint();
  const { scratch, filled } = await scratchPostgres(PG_URL, "bench_stats", async ({ schema, ledger, client }) => {
    const { actor, agentIds } = await createOrgAndAgents(ledger);
    const end = Date.now();
    await insertRunsPostgres(client, actor.organization_id, generateRuns({ count: RUNS, agentIds, fromMs: end - DAYS * 86_400_000, toMs: end, seed: SEED }), {
      onProgress: progress(`postgres (${schema}): populating`, started),
    });
    await client.query("VACUUM ANALYZE runs, run_metrics, steps");
    return { actor, agentIds };
  });
  const { schema, client } = scratch;
  const populateSeconds = msSince(started) / 1000;
  const size = await client.query<{ size: string }>("SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) AS size FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'", [schema]);
  console.error(`postgres: schema ${schema} populated in ${fmt(populateSeconds, 1)} s (${size.rows[0]!.size})`);
  return {
    backend: "postgres",
    ledger: scratch.ledger,
    actor: filled.actor,
    agentIds: filled.agentIds,
    populateSeconds,
    raw: async (sql, params) => (await client.query(toDollar(sql), params)).rows as Record<string, unknown>[],
    explain: async (sql, params) =>
      (await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${toDollar(sql)}`, params)).rows.map((r: Record<string, string>) => r["QUERY PLAN"]).join("\n"),
    close: () => scratch.close(),
  };
}

// ---------------------------------------------------------------------------------------
// Cases and their hand-written baselines.

interface Case {
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

function cases(env: Env, dayStart: string, dayEnd: string): Case[] {
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
      // The service joins DISTINCT (run_id, model) over every step in the database; the
      // hand-written statement narrows the steps to the agent's first (the service's own
      // statement is in the breakdown table and under --explain).
      join: " JOIN (SELECT DISTINCT run_id, model FROM steps WHERE organization_id = ? AND agent_id = ?) sm ON sm.run_id = r.id",
      joinParams: [env.actor.organization_id, agent],
      expected: summary,
    },
  ];
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

function baselineSql(env: Env, c: Case, organizationId: string, withPercentiles: boolean): { sql: string; params: unknown[] } {
  const g = c.group === undefined ? "" : `${c.group} AS g, `;
  const sql = `SELECT ${g}${AGGREGATE}${withPercentiles ? percentileColumns(env.backend) : ""}
    FROM runs r JOIN run_metrics m ON m.id = r.id${c.join ?? ""}
    WHERE r.organization_id = ? AND r.deleted_at IS NULL${c.where}${c.group === undefined ? "" : " GROUP BY 1"}`;
  return { sql, params: [...(c.joinParams ?? []), organizationId, ...c.params] };
}

// ---------------------------------------------------------------------------------------
// Measurement.

type Kind = "sums" | "group percentiles" | "rank reads" | "top tools" | "other";
const KINDS: Kind[] = ["sums", "group percentiles", "rank reads", "top tools"];

/** The kinds of statement RunStatsRepo sends (PostgreSQL's group statement computes the groups' sums too). */
function classify(sql: string): Kind {
  if (sql.includes("AS tool")) return "top tools";
  if (sql.includes("LIMIT 1 OFFSET")) return "rank reads";
  if (sql.includes("row_number()") || sql.includes("percentile_disc")) return "group percentiles";
  if (sql.includes("AS runs") || sql.includes("AS prompt")) return "sums";
  return "other";
}

interface Captured {
  kind: Kind;
  ms: number;
  sql: string;
  params: unknown[];
}

/** Wraps the driver's `all` and `get` so each statement the stats service issues is timed. */
function instrument(ledger: Ledger): { calls: Captured[] } {
  const sink = { calls: [] as Captured[] };
  type Call = (sql: string, params?: unknown[]) => Promise<unknown>;
  const driver = storeOf(ledger).driver as unknown as { all: Call; get: Call };
  for (const method of ["all", "get"] as const) {
    const original = driver[method].bind(driver);
    driver[method] = async (sql, params) => {
      const started = process.hrtime.bigint();
      try {
        return await original(sql, params);
      } finally {
        sink.calls.push({ kind: classify(sql), ms: msSince(started), sql, params: params ?? [] });
      }
    };
  }
  return sink;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const max = (xs: number[]) => Math.max(...xs);
const msFmt = (ms: number) => (ms >= 100 ? fmt(ms) : ms >= 10 ? fmt(ms, 1) : fmt(ms, 2));

interface CaseResult {
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

async function measure(env: Env): Promise<{ results: CaseResult[]; window: string; plans: string[] }> {
  const bounds = (await env.raw("SELECT min(created_at) AS lo, max(created_at) AS hi FROM runs", []))[0]!;
  const lo = Date.parse(String(bounds.lo instanceof Date ? bounds.lo.toISOString() : bounds.lo));
  const hi = Date.parse(String(bounds.hi instanceof Date ? bounds.hi.toISOString() : bounds.hi));
  const dayStartMs = Math.floor((lo + hi) / 2 / 86_400_000) * 86_400_000;
  const dayStart = new Date(dayStartMs).toISOString();
  const dayEnd = new Date(dayStartMs + 86_400_000).toISOString();
  const sink = instrument(env.ledger);
  const results: CaseResult[] = [];
  const plans: string[] = [];
  const only = process.argv.find((a) => a.startsWith("--cases="))?.slice("--cases=".length);
  for (const c of cases(env, dayStart, dayEnd).filter((c) => only === undefined || only.includes(c.name[1]!))) {
    const aggregateSql = baselineSql(env, c, env.actor.organization_id, false);
    const percentileSql = baselineSql(env, c, env.actor.organization_id, true);
    const result: CaseResult = {
      name: c.name, runs: 0, groups: 0, service: [], aggregate: [], withPercentiles: [], statements: 0, check: "",
      perKind: { sums: [], "group percentiles": [], "rank reads": [], "top tools": [], other: [] },
    };
    let lastReport: RunStatsReport | undefined;
    let lastAggregate: Record<string, unknown>[] = [];
    let lastPercentiles: Record<string, unknown>[] = [];
    for (let i = 0; i < WARMUP + ITERATIONS; i++) {
      const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
        const started = process.hrtime.bigint();
        const value = await fn();
        return [value, msSince(started)];
      };
      // Alternate the order so neither always runs on the other's warm cache.
      const runService = async () => {
        sink.calls.length = 0;
        const [report, ms] = await timed(() => env.ledger.stats.stats(env.actor, c.query));
        lastReport = report;
        if (i >= WARMUP) {
          result.service.push(ms);
          result.statements = sink.calls.length;
          for (const kind of [...KINDS, "other" as const]) result.perKind[kind].push(sink.calls.filter((x) => x.kind === kind).reduce((a, x) => a + x.ms, 0));
        }
      };
      const runBaselines = async () => {
        const [rowsA, msA] = await timed(() => env.raw(aggregateSql.sql, aggregateSql.params));
        const [rowsP, msP] = await timed(() => env.raw(percentileSql.sql, percentileSql.params));
        lastAggregate = rowsA;
        lastPercentiles = rowsP;
        if (i >= WARMUP) {
          result.aggregate.push(msA);
          result.withPercentiles.push(msP);
        }
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
        plans.push(`### ${env.backend} ${c.name}: ${call.kind} (${msFmt(call.ms)} ms)\n${call.sql.replace(/\s+/g, " ").trim()}\n${await env.explain(call.sql, call.params)}`);
      }
      plans.push(`### ${env.backend} ${c.name}: SQL + percentiles baseline\n${await env.explain(percentileSql.sql, percentileSql.params)}`);
    }
    const report = lastReport!;
    result.runs = c.expected(report);
    result.groups = report.groups.length;
    result.check = compare(env.backend, c, report, lastAggregate, lastPercentiles);
    console.error(`${env.backend} ${c.name}: ${fmt(result.runs)} runs, service median ${msFmt(median(result.service))} ms, SQL aggregate ${msFmt(median(result.aggregate))} ms — ${result.check}`);
    results.push(result);
  }
  return { results, window: `${dayStart} – ${dayEnd}`, plans };
}

/** The service's figures against the baselines': counts and token sums always, percentiles on PostgreSQL. */
function compare(backend: Backend, c: Case, report: RunStatsReport, aggregate: Record<string, unknown>[], percentiles: Record<string, unknown>[]): string {
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
  return problems.length === 0 ? (backend === "postgres" ? "counts, tokens and percentiles match the SQL" : "counts and tokens match the SQL") : `MISMATCH: ${problems.slice(0, 3).join("; ")}`;
}

function tables(env: Env, results: CaseResult[]): string {
  const head = markdownTable(
    ["case", "runs", "rows out", "service median", "service max", "SQL aggregate median", "SQL + percentiles median", "service ÷ SQL + percentiles"],
    results.map((r) => [
      r.name,
      fmt(r.runs),
      fmt(Math.max(1, r.groups)),
      msFmt(median(r.service)),
      msFmt(max(r.service)),
      msFmt(median(r.aggregate)),
      msFmt(median(r.withPercentiles)),
      `${fmt(median(r.service) / median(r.withPercentiles), 1)}×`,
    ]),
  );
  const split = markdownTable(
    ["case", "statements per call", ...KINDS.map((k) => `${k} (median ms)`)],
    results.map((r) => [r.name, r.statements, ...KINDS.map((k) => msFmt(median(r.perKind[k])))]),
  );
  return `${head}\n\nWhere the service's time goes (per call, summed over the statements of each kind: sums; the groups' percentiles, which on PostgreSQL include the groups' sums; the summary's percentiles read by rank; top tools):\n\n${split}`;
}

async function main(): Promise<void> {
  const out: string[] = [];
  const plans: string[] = [];
  for (const backend of BACKENDS) {
    const env = backend === "sqlite" ? await sqliteEnv() : await postgresEnv();
    try {
      const { results, window, plans: p } = await measure(env);
      plans.push(...p);
      out.push(
        `### ${backend === "sqlite" ? "SQLite (file, WAL)" : "PostgreSQL"}\n\n${fmt(RUNS)} runs, ${fmt(env.agentIds.length)} agents; ` +
          `day window ${window}; ${WARMUP} warm-up + ${ITERATIONS} timed calls per case; times in ms` +
          `${env.populateSeconds === undefined ? " (cached database)" : `; populated in ${fmt(env.populateSeconds, 0)} s`}.\n\n${tables(env, results)}`,
      );
    } finally {
      await env.close();
    }
  }
  console.log(out.join("\n\n"));
  if (plans.length > 0) console.error(`\n${plans.join("\n\n")}`);
}

await main();
