/**
 * Retention under load: the retention sweeper deletes 100,000 expired runs (each with its
 * run_metrics row, one step and one run_events row, so the cascades do real work; plus
 * 20,000 recent runs it must keep) while a writer keeps creating and completing runs
 * through the services. On SQLite (a file in WAL mode, in a temp dir) and PostgreSQL (a
 * fresh schema, dropped at the end).
 *
 *   npx tsx bench/ops-retention.ts [--quick] [--sqlite-only | --postgres-only]
 *
 * Sequence per backend: populate with raw SQL (PostgreSQL: then VACUUM ANALYZE); set the
 * policy with ledger.retention.set(admin, {terminal_days: 30}); start one writer loop
 * (runs.create → running → steps.record → completed, each call timed); after a 1 s
 * warm-up record the writer for BEFORE_MS; then run
 * `new RetentionSweeper(storeOf(ledger), {intervalMs: 60000, defaultGraceDays: 7}).sweep()`
 * (default batch of 500) and record the writer while it runs; stop the writer and check
 * that nothing is orphaned (steps, run_events, run_metrics, messages, webhook_deliveries
 * whose run is gone, counted with NOT IN), no expired run is left and every kept run and
 * every writer run is still there.
 *
 * RUNLEDGER_BENCH_POSTGRES_URL overrides postgres://postgres@127.0.0.1:5432/test.
 */
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Actor } from "../src/core/model.js";
import { openLedger, type Ledger } from "../src/ledger.js";
import type { Store } from "../src/store/store.js";
import { RetentionSweeper } from "../src/workers/retention-sweeper.js";
import { generateRuns, insertRunsPostgres, insertRunsSqlite, scratchPostgres, toDollar } from "./ops-data.js";
import { fmt, hasFlag, markdownTable, msSince, percentile } from "./stats.js";
import { storeOf } from "../src/store/store.js";

type Backend = "sqlite" | "postgres";
/**
 * "shipped" runs the sweeper as it is. "yielding" (SQLite only, a what-if) hands the sweeper
 * a view of the store whose transaction() first yields to the event loop (setImmediate), to
 * show what one yield between batches would change; runledger's code is not modified.
 */
type Variant = "shipped" | "yielding";

const QUICK = hasFlag("--quick");
const EXPIRED = QUICK ? 10_000 : 100_000;
const KEPT = QUICK ? 2_000 : 20_000;
const AGENTS = 100;
const WARMUP_MS = 1_000;
const BEFORE_MS = QUICK ? 2_000 : 5_000;
/** The writer stops by itself after this long whatever happens. */
const WRITER_LIMIT_MS = 15 * 60_000;
const POLICY_DAYS = 30;
const DAY_MS = 86_400_000;
const PG_URL = process.env.RUNLEDGER_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const BACKENDS: Backend[] = hasFlag("--sqlite-only") ? ["sqlite"] : hasFlag("--postgres-only") ? ["postgres"] : ["sqlite", "postgres"];
const CONFIGS = BACKENDS.flatMap((backend): { backend: Backend; variant: Variant }[] =>
  backend === "sqlite" ? [{ backend, variant: "shipped" }, { backend, variant: "yielding" }] : [{ backend, variant: "shipped" }],
);

interface Env {
  ledger: Ledger;
  /** Raw SQL with `?` placeholders on a connection of its own. */
  count(sql: string, params?: unknown[]): Promise<number>;
  populateSeconds: number;
  close(): Promise<void>;
}

interface Org {
  admin: Actor;
  writer: Actor;
  agentIds: string[];
}

async function createOrg(ledger: Ledger): Promise<Org> {
  const org = await ledger.organizations.createTrusted("bench retention");
  const writer: Actor = { organization_id: org.id, role: "write" };
  const agentIds: string[] = [];
  for (let i = 0; i < AGENTS; i++) agentIds.push((await ledger.agents.create(writer, { name: `agent ${i}` })).id);
  return { admin: { organization_id: org.id, role: "admin" }, writer, agentIds };
}

/** Expired runs ended 31–90 days ago; kept runs were created within the last 29 days. */
function datasets(agentIds: string[]) {
  const now = Date.now();
  return {
    expired: generateRuns({ count: EXPIRED, agentIds, fromMs: now - 90 * DAY_MS, toMs: now - 31 * DAY_MS, seed: 11, allEnded: true }),
    kept: generateRuns({ count: KEPT, agentIds, fromMs: now - 29 * DAY_MS, toMs: now - 3_600_000, seed: 12, allEnded: true }),
  };
}

async function sqliteEnv(): Promise<{ env: Env; org: Org }> {
  const dir = mkdtempSync(join(tmpdir(), "runledger-retention-"));
  const file = join(dir, "runledger.db");
  const ledger = await openLedger({ url: `sqlite:${file}` });
  const org = await createOrg(ledger);
  const started = process.hrtime.bigint();
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  const data = datasets(org.agentIds);
  insertRunsSqlite(db, org.writer.organization_id, data.expired, { events: true });
  insertRunsSqlite(db, org.writer.organization_id, data.kept, { events: true });
  db.pragma("synchronous = NORMAL");
  db.pragma("wal_checkpoint(TRUNCATE)");
  const populateSeconds = msSince(started) / 1000;
  return {
    org,
    env: {
      ledger,
      populateSeconds,
      count: async (sql, params = []) => Number(db.prepare(sql).pluck().get(...params)),
      async close() {
        db.close();
        await ledger.close();
        rmSync(dir, { recursive: true, force: true });
      },
    },
  };
}

async function postgresEnv(): Promise<{ env: Env; org: Org }> {
  const { scratch, filled } = await scratchPostgres(PG_URL, "bench_retention", async ({ ledger, client }) => {
    const org = await createOrg(ledger);
    const started = process.hrtime.bigint();
    const data = datasets(org.agentIds);
    await insertRunsPostgres(client, org.writer.organization_id, data.expired, { events: true });
    await insertRunsPostgres(client, org.writer.organization_id, data.kept, { events: true });
    await client.query("VACUUM ANALYZE runs, run_metrics, steps, run_events");
    return { org, populateSeconds: msSince(started) / 1000 };
  });
  return {
    org: filled.org,
    env: {
      ledger: scratch.ledger,
      populateSeconds: filled.populateSeconds,
      count: async (sql, params = []) => Number((await scratch.client.query(toDollar(sql), params)).rows[0]!.count),
      close: () => scratch.close(),
    },
  };
}

// ---------------------------------------------------------------------------------------

interface Sample {
  /** ms since the writer started, when the call began */
  at: number;
  ms: number;
}

class Writer {
  readonly samples: Sample[] = [];
  created = 0;
  steps = 0;
  completed = 0;
  errors: unknown[] = [];
  private stopped = false;
  private readonly origin = process.hrtime.bigint();
  private loop: Promise<void> | undefined;

  constructor(private readonly ledger: Ledger, private readonly actor: Actor, private readonly agentIds: string[]) {}

  now(): number {
    return msSince(this.origin);
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /**
   * Times one call from the moment it is due. Each call first yields to the event loop, as a
   * request arriving over HTTP would: with SQLite every statement is synchronous and the
   * driver's promises settle as microtasks, so a loop that never yields would starve timers
   * (and an in-process sweep would starve it). The yield costs microseconds when the loop is free.
   */
  private async timed<T>(fn: () => Promise<T>): Promise<T> {
    const at = this.now();
    await new Promise<void>((resolve) => setImmediate(resolve));
    const value = await fn();
    this.samples.push({ at, ms: this.now() - at });
    return value;
  }

  private async run(): Promise<void> {
    const { ledger, actor } = this;
    for (let i = 0; !this.stopped && this.now() < WRITER_LIMIT_MS; i++) {
      try {
        const run = await this.timed(() => ledger.runs.create(actor, { agent_id: this.agentIds[i % this.agentIds.length]!, tags: ["writer"] }));
        this.created++;
        await this.timed(() => ledger.runs.update(actor, run.id, { status: "running" }));
        await this.timed(() => ledger.steps.record(actor, run.id, { model: "gpt-4o-mini", prompt_tokens: 900, completion_tokens: 120, status: "success" }));
        this.steps++;
        await this.timed(() => ledger.runs.update(actor, run.id, { status: "completed", stop_reason: "end_turn" }));
        this.completed++;
      } catch (error) {
        this.errors.push(error);
        if (this.errors.length > 100) throw new Error(`writer: too many errors, last: ${String(error)}`, { cause: error });
      }
    }
  }

  /**
   * Calls in [from, to): with `overlap`, every call that overlaps the window (so one stuck
   * through all of it counts), otherwise those that started and finished inside it.
   */
  window(from: number, to: number, overlap: boolean): { n: number; p50: number; p99: number; max: number; perSecond: number } {
    const ms = this.samples.filter((s) => (overlap ? s.at < to && s.at + s.ms > from : s.at >= from && s.at + s.ms <= to)).map((s) => s.ms).sort((a, b) => a - b);
    if (ms.length === 0) return { n: 0, p50: NaN, p99: NaN, max: NaN, perSecond: 0 };
    return { n: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms[ms.length - 1]!, perSecond: ms.length / ((to - from) / 1000) };
  }
}

interface Result {
  backend: Backend;
  populateSeconds: number;
  deleted: number;
  sweepMs: number;
  variant: Variant;
  /** The longest event-loop stall (gap between 5 ms timer ticks), ms. */
  loopBefore: number;
  loopDuring: number;
  batches: number[];
  before: ReturnType<Writer["window"]>;
  during: ReturnType<Writer["window"]>;
  checks: Record<string, number>;
  problems: string[];
}

/** The longest gap between ticks of a 5 ms interval timer: how long the event loop was stuck. */
class StallMonitor {
  private last = process.hrtime.bigint();
  private max = 0;
  private readonly timer = setInterval(() => {
    this.max = Math.max(this.max, msSince(this.last));
    this.last = process.hrtime.bigint();
  }, 5);

  takeMax(): number {
    const max = Math.max(this.max, msSince(this.last));
    this.max = 0;
    return max;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

async function bench(backend: Backend, variant: Variant): Promise<Result> {
  const { env, org } = backend === "sqlite" ? await sqliteEnv() : await postgresEnv();
  try {
    const { ledger } = env;
    console.error(`${backend}: populated ${fmt(EXPIRED)} expired + ${fmt(KEPT)} kept runs in ${fmt(env.populateSeconds, 1)} s`);
    await ledger.retention.set(org.admin, { terminal_days: POLICY_DAYS });
    const writer = new Writer(ledger, org.writer, org.agentIds);
    writer.start();
    await sleep(WARMUP_MS);
    const stalls = new StallMonitor();
    const beforeFrom = writer.now();
    await sleep(BEFORE_MS);
    const beforeTo = writer.now();
    const loopBefore = stalls.takeMax();

    const store =
      variant === "shipped"
        ? storeOf(ledger)
        : (Object.create(storeOf(ledger), {
            transaction: {
              value: async (fn: Parameters<Store["transaction"]>[0]) => {
                await new Promise<void>((resolve) => setImmediate(resolve));
                return storeOf(ledger).transaction(fn);
              },
            },
          }) as Store);
    const sweeper = new RetentionSweeper(store, { intervalMs: 60_000, defaultGraceDays: 7 });
    const batchEnds: number[] = [];
    const sweepFrom = writer.now();
    const counts = await sweeper.sweep(new Date(), () => batchEnds.push(writer.now()));
    const sweepTo = writer.now();
    await sleep(20); // lets the stall monitor's timer observe a stall that lasted until now
    const loopDuring = stalls.takeMax();
    stalls.stop();
    await writer.stop();
    const batches = batchEnds.map((t, i) => t - (i === 0 ? sweepFrom : batchEnds[i - 1]!));
    console.error(`${backend} (${variant}): swept ${fmt(counts.expired)} runs in ${fmt((sweepTo - sweepFrom) / 1000, 2)} s; writer made ${fmt(writer.completed)} runs`);

    const cutoff = new Date(Date.now() - POLICY_DAYS * DAY_MS).toISOString();
    const checks: Record<string, number> = {
      "orphaned steps": await env.count("SELECT count(*) AS count FROM steps WHERE run_id NOT IN (SELECT id FROM runs)"),
      "orphaned run_events": await env.count("SELECT count(*) AS count FROM run_events WHERE run_id NOT IN (SELECT id FROM runs)"),
      "orphaned run_metrics": await env.count("SELECT count(*) AS count FROM run_metrics WHERE id NOT IN (SELECT id FROM runs)"),
      "orphaned messages": await env.count("SELECT count(*) AS count FROM messages WHERE run_id NOT IN (SELECT id FROM runs)"),
      "orphaned webhook_deliveries": await env.count("SELECT count(*) AS count FROM webhook_deliveries WHERE run_id NOT IN (SELECT id FROM runs)"),
      "expired runs left": await env.count("SELECT count(*) AS count FROM runs WHERE completed_at < ?", [cutoff]),
      "runs left": await env.count("SELECT count(*) AS count FROM runs"),
      "steps left": await env.count("SELECT count(*) AS count FROM steps"),
      "run_events left": await env.count("SELECT count(*) AS count FROM run_events"),
    };
    const problems: string[] = [];
    for (const [name, n] of Object.entries(checks)) if ((name.startsWith("orphaned") || name === "expired runs left") && n !== 0) problems.push(`${name}: ${n}`);
    if (counts.expired !== EXPIRED) problems.push(`sweeper deleted ${counts.expired}, expected ${EXPIRED}`);
    if (checks["runs left"] !== KEPT + writer.created) problems.push(`runs left ${checks["runs left"]}, expected ${KEPT} kept + ${writer.created} written`);
    if (checks["steps left"] !== KEPT + writer.steps) problems.push(`steps left ${checks["steps left"]}, expected ${KEPT} kept + ${writer.steps} written`);
    if (checks["run_events left"]! < KEPT + 3 * writer.completed) problems.push(`run_events left ${checks["run_events left"]}, expected at least ${KEPT + 3 * writer.completed}`);
    if (writer.errors.length > 0) problems.push(`writer errors: ${writer.errors.length} (first: ${String(writer.errors[0])})`);
    for (const p of problems) console.error(`${backend}: PROBLEM ${p}`);
    return {
      backend,
      variant,
      populateSeconds: env.populateSeconds,
      deleted: counts.expired,
      sweepMs: sweepTo - sweepFrom,
      loopBefore,
      loopDuring,
      batches,
      before: writer.window(beforeFrom, beforeTo, false),
      during: writer.window(sweepFrom, sweepTo, true),
      checks,
      problems,
    };
  } finally {
    await env.close();
  }
}

function msFmt(ms: number): string {
  return ms >= 100 ? fmt(ms) : ms >= 10 ? fmt(ms, 1) : fmt(ms, 2);
}

async function main(): Promise<void> {
  const results: Result[] = [];
  for (const { backend, variant } of CONFIGS) results.push(await bench(backend, variant));
  const name = (r: Result) =>
    (r.backend === "sqlite" ? "SQLite (file, WAL)" : "PostgreSQL") + (r.variant === "yielding" ? ", what-if: yield between batches" : "");
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  console.log(
    `${fmt(EXPIRED)} expired runs (each with run_metrics, 1 step, 1 run_events row) + ${fmt(KEPT)} kept; policy terminal_days=${POLICY_DAYS}; ` +
      `sweeper batch 500; one writer loop (create → running → step → completed, each call timed); writer measured ${fmt(BEFORE_MS / 1000)} s before the sweep and for the whole sweep; times in ms.\n`,
  );
  console.log(
    markdownTable(
      ["backend", "runs deleted", "sweep", "deleted runs/s", "batches", "batch median / max", "writer calls before / during", "writer p50 before → during", "writer p99 before → during", "writer max before → during", "writer calls/s before → during", "event-loop stall max before → during"],
      results.map((r) => [
        name(r),
        fmt(r.deleted),
        `${fmt(r.sweepMs / 1000, 2)} s`,
        fmt(r.deleted / (r.sweepMs / 1000)),
        fmt(r.batches.length),
        `${msFmt(percentile(sorted(r.batches), 50))} / ${msFmt(Math.max(...r.batches))}`,
        `${fmt(r.before.n)} / ${fmt(r.during.n)}`,
        `${msFmt(r.before.p50)} → ${msFmt(r.during.p50)}`,
        `${msFmt(r.before.p99)} → ${msFmt(r.during.p99)} (${fmt(r.during.p99 / r.before.p99, 1)}×)`,
        `${msFmt(r.before.max)} → ${msFmt(r.during.max)}`,
        `${fmt(r.before.perSecond)} → ${fmt(r.during.perSecond)}`,
        `${msFmt(r.loopBefore)} → ${msFmt(r.loopDuring)}`,
      ]),
    ),
  );
  console.log(
    "\nBatch time along the sweep (mean ms of each tenth of the batches, in order; the sweeper drains completed, then failed, then cancelled runs):\n",
  );
  console.log(
    markdownTable(
      ["backend", ...Array.from({ length: 10 }, (_, i) => `${i * 10}–${i * 10 + 10}%`)],
      results.map((r) => [
        name(r),
        ...Array.from({ length: 10 }, (_, i) => {
          const slice = r.batches.slice(Math.floor((i * r.batches.length) / 10), Math.floor(((i + 1) * r.batches.length) / 10));
          return slice.length === 0 ? "–" : msFmt(slice.reduce((a, b) => a + b, 0) / slice.length);
        }),
      ]),
    ),
  );
  console.log("\nAfter the sweep (orphans counted with NOT IN):\n");
  const keys = Object.keys(results[0]!.checks);
  console.log(markdownTable(["check", ...results.map((r) => name(r))], keys.map((k) => [k, ...results.map((r) => fmt(r.checks[k]!))])));
  console.log(`\n${results.every((r) => r.problems.length === 0) ? "All checks passed." : `PROBLEMS: ${results.flatMap((r) => r.problems.map((p) => `${r.backend} ${r.variant}: ${p}`)).join("; ")}`}`);
}

await main();
