/**
 * Full-lifecycle throughput through the services, against a hand-written SQL floor that
 * writes the same rows in the same transactions through the raw driver.
 *
 * One lifecycle: runs.create → running → 3 × steps.record → messages.append (5 messages)
 * → completed (end_turn). For each backend and concurrency, ledger and floor each get a
 * fresh database (a WAL file in a temp dir for SQLite, a new schema for PostgreSQL) and a
 * warm-up, then take turns running fixed chunks of timed lifecycles. The reported rate is
 * all timed lifecycles over all timed seconds.
 *
 *   npx tsx bench/lifecycle.ts [--quick] [--only=sqlite|postgres]
 *
 * RUNLEDGER_BENCH_POSTGRES_URL overrides postgres://postgres@127.0.0.1:5432/test.
 */
import Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { newId } from "../src/core/ids.js";
import type { Actor } from "../src/core/model.js";
import { durationNs, nowIso, wallClockNs } from "../src/core/time.js";
import { openLedger, type Ledger } from "../src/ledger.js";
import { fmt, hasFlag, markdownTable, msSince, runWorkers } from "./stats.js";
import { storeOf } from "../src/store/store.js";

export type Backend = "sqlite" | "postgres";

const QUICK = hasFlag("--quick");
const ONLY = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
export const PG_URL = process.env.RUNLEDGER_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const CONCURRENCY = [1, 8];
/** Ledger and floor take turns this many times per configuration… */
const ROUNDS = QUICK ? 2 : 10;
/** …each running `chunk` timed lifecycles, after `warmup` untimed ones. */
const COUNTS: Record<Backend, { warmup: number; chunk: number }> = {
  sqlite: QUICK ? { warmup: 20, chunk: 50 } : { warmup: 300, chunk: 500 },
  postgres: QUICK ? { warmup: 10, chunk: 25 } : { warmup: 100, chunk: 150 },
};
const TARGET = 0.5;

// ---------------------------------------------------------------------------------------
// What one lifecycle reports.

export const STEP = { model: "gpt-4o-mini", prompt_tokens: 1_200, completion_tokens: 180, status: "success" } as const;
export const TOOL = "get_weather";
export const MESSAGES = [
  { message_type: "user_message", content: "What is the weather in Paris?" },
  { message_type: "reasoning_message", reasoning: "The user wants the current weather; call the weather tool." },
  { message_type: "tool_call_message", tool_call: { name: TOOL, arguments: '{"city":"Paris"}', tool_call_id: "call_1" } },
  { message_type: "tool_return_message", tool_return: '{"temp_c":18,"sky":"clear"}', tool_call_id: "call_1", status: "success" },
  { message_type: "assistant_message", content: "It is 18 °C and clear in Paris." },
] as const;

/** One lifecycle through the services: the subject the HTTP producer bench compares with, too. */
export async function ledgerLifecycle(ledger: Ledger, actor: Actor, agentId: string): Promise<void> {
  const run = await ledger.runs.create(actor, { agent_id: agentId });
  await ledger.runs.update(actor, run.id, { status: "running" });
  for (let i = 0; i < 3; i++) await ledger.steps.record(actor, run.id, STEP);
  await ledger.messages.append(actor, run.id, MESSAGES);
  await ledger.runs.update(actor, run.id, { status: "completed", stop_reason: "end_turn" });
}

// ---------------------------------------------------------------------------------------
// The floor: the same rows (audit_log included) and transactions, by hand. PostgreSQL's
// pg_notify calls are not repeated: they write no rows. Each transaction is a generator that
// yields [statement, params] and receives the statement's returned last_seq_id, so the
// SQLite and PostgreSQL floors share one definition of what is written.

const FLOOR_SQL = {
  insertRun: `INSERT INTO runs (id, organization_id, agent_id, status, created_at, updated_at, metadata, tags, last_heartbeat_at, last_seq_id)
    VALUES (?, ?, ?, 'created', ?, ?, '{}', '[]', ?, 1)`,
  insertMetrics: "INSERT INTO run_metrics (id, organization_id, agent_id, run_start_ns, tools_used) VALUES (?, ?, ?, ?, '[]')",
  start: `UPDATE runs SET status = 'running', started_at = ?, last_heartbeat_at = ?, updated_at = ?, last_seq_id = last_seq_id + 1
    WHERE id = ? AND status = 'created' RETURNING last_seq_id`,
  startMetrics: "UPDATE run_metrics SET status = 'running' WHERE id = ?",
  touch: `UPDATE runs SET last_heartbeat_at = ?, updated_at = ?, last_seq_id = last_seq_id + ?
    WHERE id = ? AND status IN ('created', 'running') RETURNING last_seq_id`,
  insertStep: `INSERT INTO steps (id, run_id, agent_id, organization_id, status, model, prompt_tokens, completion_tokens, total_tokens,
    tags, created_at, updated_at) VALUES (?, ?, ?, ?, 'success', ?, ?, ?, ?, '[]', ?, ?)`,
  addUsage: `UPDATE run_metrics SET num_steps = num_steps + 1, prompt_tokens = prompt_tokens + ?,
    completion_tokens = completion_tokens + ?, total_tokens = total_tokens + ? WHERE id = ?`,
  insertEvent: "INSERT INTO run_events (run_id, seq_id, organization_id, kind, event, created_at) VALUES (?, ?, ?, ?, ?, ?)",
  insertMessages: `INSERT INTO messages (id, run_id, step_id, agent_id, organization_id, sequence_id, message_type, created_at, body)
    VALUES ${Array(MESSAGES.length).fill("(?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`,
  insertMessageEvents: `INSERT INTO run_events (run_id, seq_id, organization_id, kind, event, created_at)
    VALUES ${Array(MESSAGES.length).fill("(?, ?, ?, 'message', ?, ?)").join(", ")}`,
  setTools: "UPDATE run_metrics SET tools_used = ? WHERE id = ?",
  complete: `UPDATE runs SET status = 'completed', stop_reason = 'end_turn', completed_at = ?, total_duration_ns = ?, updated_at = ?,
    last_seq_id = last_seq_id + 1 WHERE id = ? AND status = 'running' RETURNING last_seq_id`,
  setRunNs: "UPDATE run_metrics SET status = 'completed', run_ns = ? WHERE id = ?",
  recordRunEnd: "UPDATE agents SET last_stop_reason = 'end_turn', last_run_completion = ?, last_run_duration_ms = ? WHERE id = ?",
  audit: "INSERT INTO audit_log (organization_id, action, run_id, target_id, details, created_at) VALUES (?, ?, ?, ?, ?, ?)",
} as const;

type Statement = readonly [keyof typeof FLOOR_SQL, readonly unknown[]];
type FloorTransaction = Generator<Statement, void, number>;

/** The seven transactions of one lifecycle, in order; each is started when its turn comes. */
function floorLifecycle(orgId: string, agentId: string): (() => FloorTransaction)[] {
  const runId = newId("run");
  const createdAt = nowIso();
  const statusEvent = (seq: number, status: string, stopReason: string | null, completedAt: string | null) =>
    JSON.stringify({
      type: "run_status", run_id: runId, seq_id: seq, status, stop_reason: stopReason, completed_at: completedAt, cancel_requested_at: null,
    });
  const audit = (action: string, now: string, details: object | null = null, targetId: string | null = null): Statement =>
    ["audit", [orgId, action, runId, targetId, details && JSON.stringify(details), now]];

  function* create(): FloorTransaction {
    yield ["insertRun", [runId, orgId, agentId, createdAt, createdAt, createdAt]];
    yield ["insertEvent", [runId, 1, orgId, "status", statusEvent(1, "created", null, null), createdAt]];
    yield ["insertMetrics", [runId, orgId, agentId, wallClockNs()]];
    yield audit("run.create", createdAt);
  }
  function* start(): FloorTransaction {
    const now = nowIso();
    const seq = yield ["start", [now, now, now, runId]];
    yield ["startMetrics", [runId]];
    yield ["insertEvent", [runId, seq, orgId, "status", statusEvent(seq, "running", null, null), now]];
    yield audit("run.update", now, { status: "running", stop_reason: null });
  }
  function* step(): FloorTransaction {
    const now = nowIso();
    const seq = yield ["touch", [now, now, 1, runId]];
    const s = floorStep(newId("step"), runId, agentId, now);
    yield ["insertStep", [s.id, runId, agentId, orgId, s.model, s.prompt_tokens, s.completion_tokens, s.total_tokens, now, now]];
    yield ["addUsage", [s.prompt_tokens, s.completion_tokens, s.total_tokens, runId]];
    yield ["insertEvent", [runId, seq, orgId, "step", JSON.stringify({ type: "step", run_id: runId, seq_id: seq, step: s }), now]];
    yield audit("step.record", now, null, s.id);
  }
  function* messages(): FloorTransaction {
    const now = nowIso();
    const last = yield ["touch", [now, now, MESSAGES.length, runId]];
    const rows = MESSAGES.map((m, i) => {
      const message = { ...m, id: newId("message"), date: now, run_id: runId, step_id: null, seq_id: last - MESSAGES.length + 1 + i };
      return { message, body: JSON.stringify(message) };
    });
    yield ["insertMessages", rows.flatMap(({ message: m, body }) => [m.id, runId, null, agentId, orgId, m.seq_id, m.message_type, now, body])];
    yield ["insertMessageEvents", rows.flatMap(({ message: m, body }) => [runId, m.seq_id, orgId, body, now])];
    yield ["setTools", [JSON.stringify([TOOL]), runId]];
    yield audit("messages.append", now, { count: MESSAGES.length });
  }
  function* complete(): FloorTransaction {
    const now = nowIso();
    const runNs = durationNs(createdAt, now);
    const seq = yield ["complete", [now, runNs, now, runId]];
    yield ["setRunNs", [runNs, runId]];
    yield ["recordRunEnd", [now, Math.round(runNs / 1_000_000), agentId]];
    yield ["insertEvent", [runId, seq, orgId, "status", statusEvent(seq, "completed", "end_turn", now), now]];
    yield audit("run.update", now, { status: "completed", stop_reason: "end_turn" });
  }
  return [create, start, step, step, step, messages, complete];
}

/** The step as the ledger serializes it into its step event: every column, nulls included, in the same order. */
function floorStep(id: string, runId: string, agentId: string, now: string) {
  return {
    status: STEP.status, stop_reason: null, provider_name: null, provider_category: null, provider_id: null, model: STEP.model,
    model_endpoint: null, model_handle: null, context_window_limit: null, cached_input_tokens: null, cache_write_tokens: null,
    reasoning_tokens: null, prompt_tokens_details: null, completion_tokens_details: null, error_type: null, error_data: null,
    tags: [], trace_id: null, request_id: null, llm_request_start_ns: null, llm_request_ns: null, tool_execution_ns: null,
    step_start_ns: null, step_ns: null, prompt_tokens: STEP.prompt_tokens, completion_tokens: STEP.completion_tokens,
    total_tokens: STEP.prompt_tokens + STEP.completion_tokens, id, run_id: runId, agent_id: agentId, project_id: null, feedback: null,
    created_at: now, updated_at: now,
  };
}

/** better-sqlite3 on its own connection, cached statements, each transaction synchronous. */
function sqliteFloor(file: string, orgId: string, agentIds: readonly string[]): Target {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  const statements = new Map(Object.entries(FLOOR_SQL).map(([key, sql]) => [key, db.prepare(sql)]));
  const execute = db.transaction((tx: FloorTransaction) => {
    for (let next = tx.next(); !next.done; ) {
      const [key, params] = next.value;
      const statement = statements.get(key)!;
      next = tx.next(statement.reader ? (statement.get(...params) as { last_seq_id: number }).last_seq_id : (statement.run(...params), 0));
    }
  });
  return {
    async lifecycle(worker) {
      // `await` between transactions lets the other workers interleave, as they do through the services.
      for (const tx of floorLifecycle(orgId, agentIds[worker]!)) await execute.immediate(tx());
    },
    async close() {
      db.close();
    },
  };
}

/** One pg.Client per worker (no pool checkout), named prepared statements. */
async function postgresFloor(schema: string, orgId: string, agentIds: readonly string[]): Promise<Target> {
  const clients = agentIds.map(() => new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` }));
  await Promise.all(clients.map((c) => c.connect()));
  const queries = new Map(
    Object.entries(FLOOR_SQL).map(([key, sql]) => {
      let n = 0;
      return [key, { name: `floor_${key}`, text: sql.replace(/\?/g, () => `$${++n}`) }];
    }),
  );
  return {
    async lifecycle(worker) {
      const client = clients[worker]!;
      for (const transaction of floorLifecycle(orgId, agentIds[worker]!)) {
        const tx = transaction();
        await client.query("BEGIN");
        try {
          for (let next = tx.next(); !next.done; ) {
            const [key, values] = next.value;
            const result = await client.query({ ...queries.get(key)!, values: values as unknown[] });
            next = tx.next(Number(result.rows[0]?.last_seq_id ?? 0));
          }
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK");
          throw error;
        }
      }
    },
    async close() {
      await Promise.all(clients.map((c) => c.end()));
    },
  };
}

// ---------------------------------------------------------------------------------------
// Harness.

interface Target {
  lifecycle(worker: number): Promise<void>;
  close(): Promise<void>;
}

/** A new, migrated database with one organization and one agent per worker. */
export async function freshDatabase(backend: Backend, workers: number) {
  const dir = backend === "sqlite" ? mkdtempSync(join(tmpdir(), "runledger-bench-")) : undefined;
  const schema = `bench_${randomBytes(6).toString("hex")}`;
  const file = dir === undefined ? "" : join(dir, "ledger.db");
  const ledger = await openLedger({ url: dir === undefined ? `${PG_URL}?schema=${schema}` : `sqlite:${file}` });
  const org = await ledger.organizations.createTrusted("bench");
  const actor: Actor = { organization_id: org.id, role: "write" };
  const agentIds: string[] = [];
  for (let i = 0; i < workers; i++) agentIds.push((await ledger.agents.create(actor, { name: `agent ${i}` })).id);
  return {
    ledger, actor, agentIds, file, schema,
    async dispose() {
      if (dir === undefined) await storeOf(ledger).driver.run(`DROP SCHEMA ${schema} CASCADE`);
      await ledger.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Impl = "ledger" | "floor";

interface Comparison {
  /** Lifecycles per second over all timed chunks. */
  rate: Record<Impl, number>;
  /** Lowest and highest ledger/floor ratio of a single round. */
  roundRatios: [number, number];
}

/**
 * Ledger and floor each get a fresh database and a warm-up, then take turns running
 * CHUNK timed lifecycles for ROUNDS rounds (ABBA order), so background load and drift
 * hit both alike. Checks afterwards that every row landed.
 */
async function compare(backend: Backend, concurrency: number): Promise<Comparison> {
  const { warmup, chunk } = COUNTS[backend];
  const ledgerDb = await freshDatabase(backend, concurrency);
  const floorDb = await freshDatabase(backend, concurrency);
  try {
    const targets: Record<Impl, Target> = {
      ledger: { lifecycle: (w) => ledgerLifecycle(ledgerDb.ledger, ledgerDb.actor, ledgerDb.agentIds[w]!), close: async () => {} },
      floor: backend === "sqlite"
        ? sqliteFloor(floorDb.file, floorDb.actor.organization_id, floorDb.agentIds)
        : await postgresFloor(floorDb.schema, floorDb.actor.organization_id, floorDb.agentIds),
    };
    const run = async (impl: Impl, count: number) => {
      const start = process.hrtime.bigint();
      await runWorkers(count, concurrency, (w) => targets[impl].lifecycle(w));
      return msSince(start) / 1000;
    };
    await run("ledger", warmup);
    await run("floor", warmup);
    const counted = backend === "postgres" && concurrency === 1 ? 1 : 0;
    if (counted > 0) {
      const [ledgerTrips, floorTrips] = [await roundTrips(() => run("ledger", 1)), await roundTrips(() => run("floor", 1))];
      console.error(
        `postgres: per lifecycle, the ledger sends ${ledgerTrips.statements} statements in its transactions (and ${ledgerTrips.notices} notices after commits), the floor ${floorTrips.statements}`,
      );
    }
    const seconds: Record<Impl, number> = { ledger: 0, floor: 0 };
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order: Impl[] = round % 2 === 0 ? ["ledger", "floor"] : ["floor", "ledger"];
      const taken: Record<Impl, number> = { ledger: 0, floor: 0 };
      for (const impl of order) taken[impl] = await run(impl, chunk);
      seconds.ledger += taken.ledger;
      seconds.floor += taken.floor;
      ratios.push(taken.floor / taken.ledger);
    }
    await targets.floor.close();
    await checkRows(ledgerDb.ledger, floorDb.ledger, warmup + counted + ROUNDS * chunk);
    const total = ROUNDS * chunk;
    return { rate: { ledger: total / seconds.ledger, floor: total / seconds.floor }, roundRatios: [Math.min(...ratios), Math.max(...ratios)] };
  } finally {
    await ledgerDb.dispose();
    await floorDb.dispose();
  }
}

/**
 * Statements sent to PostgreSQL while `fn` runs (each a round trip), counted on pg.Client:
 * those of the transactions, and apart the notices the store sends after commits on
 * another pooled connection, off the caller's path.
 */
async function roundTrips(fn: () => Promise<unknown>): Promise<{ statements: number; notices: number }> {
  const counts = { statements: 0, notices: 0 };
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as string | { text: string };
    const text = typeof config === "string" ? config : config.text;
    if (text.startsWith("SELECT set_config('synchronous_commit', 'off', true), pg_notify(")) counts.notices++;
    else counts.statements++;
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    await fn();
    // Let the notices of the last commit go out inside the window.
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    pg.Client.prototype.query = original;
  }
  return counts;
}

/** Rows per table, for every table of the database. */
async function tableCounts(ledger: Ledger): Promise<Record<string, number>> {
  const driver = storeOf(ledger).driver;
  const tables = await driver.all<{ name: string }>(
    storeOf(ledger).dialect === "sqlite"
      ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
      : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()",
  );
  const counts: Record<string, number> = {};
  for (const { name } of tables) counts[name] = Number((await driver.get<{ n: number }>(`SELECT count(*) AS n FROM ${name}`))!.n);
  return counts;
}

/**
 * Ledger and floor wrote as many rows to every table, and the ledger's rows are whole:
 * `n` completed runs with 11 events each.
 */
async function checkRows(ledger: Ledger, floor: Ledger, n: number): Promise<void> {
  const [ledgerRows, floorRows] = [await tableCounts(ledger), await tableCounts(floor)];
  for (const [table, count] of Object.entries(ledgerRows)) {
    if (count !== floorRows[table]) throw new Error(`${table}: the ledger wrote ${count} rows, the floor ${floorRows[table]}`);
  }
  const done = await storeOf(ledger).driver.get<{ n: number }>("SELECT count(*) AS n FROM runs WHERE status = 'completed' AND last_seq_id = 11");
  if (Number(done!.n) !== n || ledgerRows.run_events !== 11 * n) throw new Error(`expected ${n} completed runs with 11 events each`);
}

/** Whether PostgreSQL answers; says how many other connections LISTEN there, since every NOTIFY wakes them all. */
export async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN %'",
    );
    console.error(`PostgreSQL: ${rows[0]!.n} other connections are listening on this database`);
    return true;
  } catch (error) {
    console.error(`PostgreSQL skipped: no server at ${PG_URL} (${(error as Error).message})`);
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function main(): Promise<void> {
  const available: Backend[] = (await postgresAnswers()) ? ["sqlite", "postgres"] : ["sqlite"];
  const backends = available.filter((b) => ONLY === undefined || b === ONLY);
  const rows: string[][] = [];
  for (const backend of backends) {
    for (const concurrency of CONCURRENCY) {
      const { rate, roundRatios } = await compare(backend, concurrency);
      const ratio = rate.ledger / rate.floor;
      const [low, high] = roundRatios.map((r) => `${fmt(r * 100)}%`);
      console.error(`${backend} c=${concurrency}: ledger ${fmt(rate.ledger)}/s, floor ${fmt(rate.floor)}/s, ${fmt(ratio * 100)}% (rounds ${low}–${high})`);
      rows.push([
        backend, String(concurrency), `${ROUNDS} × ${fmt(COUNTS[backend].chunk)}`, fmt(rate.ledger), fmt(rate.floor),
        `${fmt(ratio * 100)}%`, `${low}–${high}`, `${fmt(ratio / TARGET, 2)}× ${ratio >= TARGET ? "✓" : "✗"}`,
      ]);
    }
  }
  console.log(
    markdownTable(
      ["backend", "concurrency", "timed lifecycles", "ledger runs/s", "floor runs/s", "ledger / floor", "per round", `vs target (≥ ${TARGET * 100}%)`],
      rows,
    ),
  );
}

// Run when executed, not when another bench imports the lifecycle from here.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
