/**
 * The populated databases of the statistics benchmark: 1,000,000 runs (1,000 agents, 30
 * days, mixed statuses, durations, TTFT, tokens, tools; one step row per started run, with a
 * model; see bench/ops-data.ts) in one organization, as a ledger plus a raw connection of
 * its own for the hand-written baselines.
 *
 * SQLite's populated file is cached in bench/.data/ (keyed by size, schema and generator);
 * PostgreSQL gets a fresh schema that is dropped at the end. Population writes raw SQL in
 * big transactions, then PostgreSQL runs VACUUM ANALYZE; SQLite's statistics are what the
 * ledger's own `PRAGMA optimize` gathers when it opens the file.
 *
 * RUNLEDGER_BENCH_POSTGRES_URL overrides postgres://postgres@127.0.0.1:5432/test.
 */
import Database from "better-sqlite3";
import { statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Actor } from "../../src/core/model.js";
import { openLedger, type Ledger } from "../../src/ledger.js";
import {
  cachedSqlite,
  finishSqlite,
  generateRuns,
  insertRunsPostgres,
  insertRunsSqlite,
  schemaTag,
  scratchPostgres,
  sqliteWithAgents,
  toDollar,
} from "../ops-data.js";
import { fmt, hasFlag, msSince } from "../stats.js";

export type Backend = "sqlite" | "postgres";

export const QUICK = hasFlag("--quick");
export const RUNS = QUICK ? 20_000 : 1_000_000;
export const AGENTS = QUICK ? 100 : 1_000;
export const PG_URL = process.env.RUNLEDGER_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const DAYS = 30;
const SEED = 7;
/** Bump when the generator changes what it writes, so cached databases are rebuilt. */
const POPULATE_VERSION = 2;

const SQLITE_FILE = join(fileURLToPath(new URL("../.data/", import.meta.url)), `ops-stats-${RUNS}-${AGENTS}-${schemaTag(POPULATE_VERSION)}.db`);

export interface Env {
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

function progress(label: string, started: bigint) {
  return (written: number) => console.error(`${label}: ${fmt(written)} / ${fmt(RUNS)} runs (${fmt(msSince(started) / 1000, 1)} s)`);
}

function runs(agentIds: readonly string[]) {
  const end = Date.now();
  return generateRuns({ count: RUNS, agentIds, fromMs: end - DAYS * 86_400_000, toMs: end, seed: SEED });
}

export async function sqliteEnv(): Promise<Env> {
  const started = process.hrtime.bigint();
  const built = await cachedSqlite(SQLITE_FILE, hasFlag("--rebuild"), async (file) => {
    const { db, actor, agentIds } = await sqliteWithAgents(file, { agents: AGENTS, name: "bench stats" });
    insertRunsSqlite(db, actor.organization_id, runs(agentIds), { onProgress: progress("sqlite: populating", started) });
    finishSqlite(db);
  });
  const populateSeconds = built ? msSince(started) / 1000 : undefined;
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

export async function postgresEnv(): Promise<Env> {
  const started = process.hrtime.bigint();
  const { scratch, filled } = await scratchPostgres(PG_URL, "bench_stats", async ({ schema, ledger, client }) => {
    const org = await ledger.organizations.createTrusted("bench stats");
    const actor: Actor = { organization_id: org.id, role: "write" };
    const agentIds: string[] = [];
    for (let i = 0; i < AGENTS; i++) agentIds.push((await ledger.agents.create(actor, { name: `agent ${i}` })).id);
    await insertRunsPostgres(client, actor.organization_id, runs(agentIds), { onProgress: progress(`postgres (${schema}): populating`, started) });
    await client.query("VACUUM ANALYZE runs, run_metrics, steps");
    return { actor, agentIds };
  });
  const { schema, client } = scratch;
  const populateSeconds = msSince(started) / 1000;
  const size = await client.query<{ size: string }>(
    "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) AS size FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'",
    [schema],
  );
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
