/**
 * Synthetic data for the benchmarks that need a large database (bench/ops-stats/,
 * bench/ops-retention.ts, bench/dashboard.ts, bench/list-latency.ts): a seeded generator of
 * realistic run rows (run, run_metrics, one step, one status event); bulk writers that put
 * them into SQLite (prepared statements in big transactions) or PostgreSQL (10,000-row
 * `INSERT … SELECT FROM unnest($1::text[], …)` batches) with raw SQL; a SQLite file with an
 * organization and its agents to write them into, cached between runs; and a scratch
 * PostgreSQL schema.
 */
import Database from "better-sqlite3";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { existsSync, renameSync, rmSync } from "node:fs";
import pg from "pg";
import type { Actor } from "../src/core/model.js";
import { openLedger, type Ledger } from "../src/ledger.js";
import { SQLITE_MIGRATIONS } from "../src/store/sqlite/migrations.js";

/**
 * A short tag of the SQLite schema and of what a bench writes (`version`, bumped when its
 * generator changes), for naming cached databases so that a stale one is never reused.
 */
export function schemaTag(version: number): string {
  return createHash("sha256").update(`${version}:${SQLITE_MIGRATIONS.map((m) => m.sql).join("\n")}`).digest("hex").slice(0, 8);
}

/**
 * A migrated SQLite file with one organization and `agents` agents, made through the
 * ledger, then opened raw for bulk writes (WAL, synchronous off, a 1 GB page cache). With
 * `adminKey` the organization is the one the superuser key is bootstrapped into, so a server
 * on the file accepts that key; else it is a trusted organization named `name`.
 */
export async function sqliteWithAgents(
  file: string,
  options: { agents: number; adminKey?: string; name?: string },
): Promise<{ db: Database.Database; actor: Actor; agentIds: string[] }> {
  const ledger = await openLedger({ url: `sqlite:${file}` });
  let organizationId: string;
  if (options.adminKey !== undefined) {
    const boot = await ledger.apiKeys.bootstrap(options.adminKey);
    if (boot === undefined) throw new Error(`${file} already has API keys`);
    organizationId = boot.organization.id;
  } else {
    organizationId = (await ledger.organizations.createTrusted(options.name ?? "bench")).id;
  }
  const actor: Actor = { organization_id: organizationId, role: "write" };
  const agentIds: string[] = [];
  for (let i = 0; i < options.agents; i++) agentIds.push((await ledger.agents.create(actor, { name: `agent ${i}` })).id);
  await ledger.close();
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  db.pragma("cache_size = -1000000");
  return { db, actor, agentIds };
}

/** Checkpoints the WAL into the file and closes it, as the last step of a bulk build. */
export function finishSqlite(db: Database.Database): void {
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
}

/**
 * Makes `file` with `build` unless it exists (or `rebuild`), under a temporary name renamed
 * when complete, so an interrupted build is never reused. Returns whether it was built.
 */
export async function cachedSqlite(file: string, rebuild: boolean, build: (path: string) => Promise<void>): Promise<boolean> {
  if (!rebuild && existsSync(file)) return false;
  const building = `${file}.building`;
  const remove = (path: string) => {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
  };
  remove(file);
  remove(building);
  await build(building);
  for (const suffix of ["-wal", "-shm"]) rmSync(building + suffix, { force: true });
  renameSync(building, file);
  return true;
}

/** A small seeded PRNG (mulberry32), so every build has the same shape. */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const TOOLS = ["web_search", "run_code", "get_weather", "read_file", "sql_query", "send_email", "calendar_lookup", "memory_insert"] as const;
export const MODELS = ["gpt-4o-mini", "gpt-4o", "claude-sonnet-4", "o3-mini"] as const;

export interface GeneratedRun {
  id: string;
  agent_id: string;
  status: "created" | "running" | "completed" | "failed" | "cancelled";
  stop_reason: string | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  updated_at: string;
  total_duration_ns: number | null;
  ttft_ns: number | null;
  run_start_ns: number;
  num_steps: number;
  tools_used: string;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_input_tokens: number | null;
  reasoning_tokens: number | null;
  /** The run's one stored step (null for runs still `created`). */
  step: { id: string; model: string; prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

export interface GenerateOptions {
  count: number;
  agentIds: readonly string[];
  /** created_at runs chronologically from `fromMs` to `toMs`. */
  fromMs: number;
  toMs: number;
  seed: number;
  /** Every run ended (no `created` / `running` ones). Otherwise the newest 0.5% take any status. */
  allEnded?: boolean;
}

/**
 * Yields runs in chronological order. Older runs ended: 80% completed (10% of them with
 * max_steps), 13% failed, 7% cancelled; the newest 0.5% take any status. Durations are
 * log-normal around 8 s (0.1 s – 10 min), TTFT log-normal around 700 ms (30% of cancelled
 * runs never produced a token), 1–8 steps (skewed low) of 500–4,000 prompt and 50–800
 * completion tokens, 0–3 tools from eight (skewed: web_search is the most common).
 */
export function* generateRuns(options: GenerateOptions): Generator<GeneratedRun> {
  const random = prng(options.seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const skewed = (n: number) => Math.min(n - 1, Math.floor(random() * random() * n));
  const span = options.toMs - options.fromMs;
  for (let i = 0; i < options.count; i++) {
    const t = Math.floor(options.fromMs + ((i + random()) * span) / options.count);
    const r = random();
    let status: GeneratedRun["status"];
    if (!options.allEnded && i >= options.count * 0.995) status = (["created", "running", "completed", "failed", "cancelled"] as const)[Math.floor(random() * 5)]!;
    else status = r < 0.8 ? "completed" : r < 0.93 ? "failed" : "cancelled";
    const ended = status === "completed" || status === "failed" || status === "cancelled";
    const stopReason =
      status === "completed" ? (random() < 0.1 ? "max_steps" : "end_turn")
      : status === "failed" ? (["llm_api_error", "error", "timed_out"] as const)[Math.floor(random() * 3)]!
      : status === "cancelled" ? "cancelled"
      : null;
    const durationMs = Math.round(Math.min(600_000, Math.max(100, 8_000 * Math.exp(normal()))));
    const ttftMs = Math.round(Math.min(30_000, Math.max(30, 700 * Math.exp(0.6 * normal()))));
    const started = status !== "created";
    const hasTtft = started && !(status === "cancelled" && random() < 0.3);
    const steps = started ? 1 + skewed(8) : 0;
    const tools = new Set<string>();
    const toolCount = started ? Math.floor(random() * 4) : 0;
    for (let k = 0; k < toolCount; k++) tools.add(TOOLS[skewed(TOOLS.length)]!);
    let prompt = 0;
    let completion = 0;
    for (let k = 0; k < steps; k++) {
      prompt += 500 + Math.floor(random() * 3_500);
      completion += 50 + Math.floor(random() * 750);
    }
    const createdAt = new Date(t).toISOString();
    const completedAt = ended ? new Date(t + durationMs).toISOString() : null;
    const model = MODELS[skewed(MODELS.length)]!;
    yield {
      id: `run-${randomUUID()}`,
      agent_id: options.agentIds[Math.floor(random() * options.agentIds.length)]!,
      status,
      stop_reason: stopReason,
      created_at: createdAt,
      started_at: started ? createdAt : null,
      completed_at: completedAt,
      updated_at: completedAt ?? createdAt,
      total_duration_ns: ended ? durationMs * 1_000_000 : null,
      ttft_ns: hasTtft ? ttftMs * 1_000_000 : null,
      run_start_ns: t * 1_000_000,
      num_steps: steps,
      tools_used: JSON.stringify([...tools]),
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      cached_input_tokens: steps > 0 && random() < 0.4 ? Math.floor(prompt * 0.5) : null,
      reasoning_tokens: model === "o3-mini" ? Math.floor(completion * 0.6) : null,
      step: started
        ? { id: `step-${randomUUID()}`, model, prompt_tokens: Math.round(prompt / steps), completion_tokens: Math.round(completion / steps), total_tokens: Math.round((prompt + completion) / steps) }
        : null,
    };
  }
}

function statusEventJson(run: GeneratedRun, seq: number): string {
  return JSON.stringify({ type: "run_status", run_id: run.id, seq_id: seq, status: run.status, stop_reason: run.stop_reason, completed_at: run.completed_at });
}

/**
 * Writes the runs with better-sqlite3 in transactions of `perTransaction` runs: for each
 * run its runs row, run_metrics row, one step (when started) and one status event (seq 1).
 */
export function insertRunsSqlite(
  db: Database.Database,
  organizationId: string,
  runs: Iterable<GeneratedRun>,
  options: { perTransaction?: number; events?: boolean; onProgress?: (written: number) => void } = {},
): number {
  const perTransaction = options.perTransaction ?? 100_000;
  const insertRun = db.prepare(
    `INSERT INTO runs (id, organization_id, agent_id, status, stop_reason, created_at, updated_at, completed_at, metadata,
       request_config, tags, started_at, last_heartbeat_at, ttft_ns, total_duration_ns, last_seq_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{"source":"bench"}', '{"use_assistant_message":true}', '["bench"]', ?, ?, ?, ?, ?)`,
  );
  const insertMetrics = db.prepare(
    `INSERT INTO run_metrics (id, organization_id, agent_id, status, run_start_ns, run_ns, num_steps, tools_used,
       prompt_tokens, completion_tokens, total_tokens, cached_input_tokens, reasoning_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertStep = db.prepare(
    `INSERT INTO steps (id, run_id, agent_id, organization_id, status, model, prompt_tokens, completion_tokens, total_tokens, tags, created_at, updated_at)
     VALUES (?, ?, ?, ?, 'success', ?, ?, ?, ?, '[]', ?, ?)`,
  );
  const insertEvent = db.prepare(
    "INSERT INTO run_events (run_id, seq_id, organization_id, kind, event, created_at) VALUES (?, 1, ?, 'status', ?, ?)",
  );
  const iterator = runs[Symbol.iterator]();
  let written = 0;
  let done = false;
  const batch = db.transaction(() => {
    for (let n = 0; n < perTransaction; n++) {
      const next = iterator.next();
      if (next.done === true) {
        done = true;
        return;
      }
      const r = next.value;
      const events = options.events === true ? 1 : 0;
      insertRun.run(r.id, organizationId, r.agent_id, r.status, r.stop_reason, r.created_at, r.updated_at, r.completed_at, r.started_at, r.updated_at, r.ttft_ns, r.total_duration_ns, events);
      insertMetrics.run(r.id, organizationId, r.agent_id, r.status, r.run_start_ns, r.total_duration_ns, r.num_steps, r.tools_used, r.prompt_tokens, r.completion_tokens, r.total_tokens, r.cached_input_tokens, r.reasoning_tokens);
      if (r.step !== null) insertStep.run(r.step.id, r.id, r.agent_id, organizationId, r.step.model, r.step.prompt_tokens, r.step.completion_tokens, r.step.total_tokens, r.created_at, r.updated_at);
      if (events === 1) insertEvent.run(r.id, organizationId, statusEventJson(r, 1), r.updated_at);
      written++;
    }
  });
  while (!done) {
    batch();
    options.onProgress?.(written);
  }
  return written;
}

/**
 * Writes the runs with one PostgreSQL client: `INSERT … SELECT FROM unnest(arrays)` of
 * `perStatement` rows per table, `perTransaction` runs per transaction.
 */
export async function insertRunsPostgres(
  client: pg.ClientBase,
  organizationId: string,
  runs: Iterable<GeneratedRun>,
  options: { perStatement?: number; perTransaction?: number; events?: boolean; onProgress?: (written: number) => Promise<void> | void } = {},
): Promise<number> {
  const perStatement = options.perStatement ?? 10_000;
  const perTransaction = options.perTransaction ?? 100_000;
  let written = 0;
  let buffer: GeneratedRun[] = [];
  let inTransaction = 0;
  const flush = async () => {
    if (buffer.length === 0) return;
    const rs = buffer;
    buffer = [];
    if (inTransaction === 0) await client.query("BEGIN");
    const col = <T>(f: (r: GeneratedRun) => T) => rs.map(f);
    await client.query(
      `INSERT INTO runs (id, organization_id, agent_id, status, stop_reason, created_at, updated_at, completed_at, metadata,
         request_config, tags, started_at, last_heartbeat_at, ttft_ns, total_duration_ns, last_seq_id)
       SELECT id, $1, agent_id, status, stop_reason, created_at, updated_at, completed_at, '{"source":"bench"}', '{"use_assistant_message":true}', '["bench"]',
         started_at, updated_at, ttft_ns, total_duration_ns, $11
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], $9::bigint[], $10::bigint[], $12::timestamptz[])
         AS t(id, agent_id, status, stop_reason, created_at, updated_at, completed_at, ttft_ns, total_duration_ns, started_at)`,
      [
        organizationId, col((r) => r.id), col((r) => r.agent_id), col((r) => r.status), col((r) => r.stop_reason), col((r) => r.created_at),
        col((r) => r.updated_at), col((r) => r.completed_at), col((r) => r.ttft_ns), col((r) => r.total_duration_ns),
        options.events === true ? 1 : 0, col((r) => r.started_at),
      ],
    );
    await client.query(
      `INSERT INTO run_metrics (id, organization_id, agent_id, run_start_ns, run_ns, num_steps, tools_used, prompt_tokens, completion_tokens,
         total_tokens, cached_input_tokens, reasoning_tokens, status)
       SELECT id, $1, agent_id, run_start_ns, run_ns, num_steps, tools_used, prompt_tokens, completion_tokens, total_tokens, cached_input_tokens, reasoning_tokens, status
       FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::int[], $7::jsonb[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::text[])
         AS t(id, agent_id, run_start_ns, run_ns, num_steps, tools_used, prompt_tokens, completion_tokens, total_tokens, cached_input_tokens, reasoning_tokens, status)`,
      [
        organizationId, col((r) => r.id), col((r) => r.agent_id), col((r) => r.run_start_ns), col((r) => r.total_duration_ns), col((r) => r.num_steps),
        col((r) => r.tools_used), col((r) => r.prompt_tokens), col((r) => r.completion_tokens), col((r) => r.total_tokens),
        col((r) => r.cached_input_tokens), col((r) => r.reasoning_tokens), col((r) => r.status),
      ],
    );
    const started = rs.filter((r) => r.step !== null);
    await client.query(
      `INSERT INTO steps (id, run_id, agent_id, organization_id, status, model, prompt_tokens, completion_tokens, total_tokens, tags, created_at, updated_at)
       SELECT id, run_id, agent_id, $1, 'success', model, prompt_tokens, completion_tokens, total_tokens, '[]', created_at, updated_at
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::timestamptz[], $10::timestamptz[])
         AS t(id, run_id, agent_id, model, prompt_tokens, completion_tokens, total_tokens, created_at, updated_at)`,
      [
        organizationId, started.map((r) => r.step!.id), started.map((r) => r.id), started.map((r) => r.agent_id), started.map((r) => r.step!.model),
        started.map((r) => r.step!.prompt_tokens), started.map((r) => r.step!.completion_tokens), started.map((r) => r.step!.total_tokens),
        started.map((r) => r.created_at), started.map((r) => r.updated_at),
      ],
    );
    if (options.events === true) {
      await client.query(
        `INSERT INTO run_events (run_id, seq_id, organization_id, kind, event, created_at)
         SELECT run_id, 1, $1, 'status', event, created_at FROM unnest($2::text[], $3::jsonb[], $4::timestamptz[]) AS t(run_id, event, created_at)`,
        [organizationId, col((r) => r.id), col((r) => statusEventJson(r, 1)), col((r) => r.updated_at)],
      );
    }
    written += rs.length;
    inTransaction += rs.length;
    if (inTransaction >= perTransaction) {
      await client.query("COMMIT");
      inTransaction = 0;
      await options.onProgress?.(written);
    }
  };
  for (const run of runs) {
    buffer.push(run);
    if (buffer.length >= perStatement) await flush();
  }
  await flush();
  if (inTransaction > 0) {
    await client.query("COMMIT");
    await options.onProgress?.(written);
  }
  return written;
}

/** `?` placeholders as PostgreSQL's `$1, $2, …`. */
export function toDollar(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export interface ScratchSchema {
  schema: string;
  ledger: Ledger;
  /** A raw connection whose search_path is the schema. */
  client: pg.Client;
  /** Closes the ledger and drops the schema. */
  close(): Promise<void>;
}

/**
 * A migrated ledger and a raw client on a fresh schema `<prefix>_<random>` of `url`, filled
 * by `fill`. If filling throws, the schema is dropped before the error is rethrown.
 */
export async function scratchPostgres<T>(url: string, prefix: string, fill: (scratch: ScratchSchema) => Promise<T>): Promise<{ scratch: ScratchSchema; filled: T }> {
  const schema = `${prefix}_${randomBytes(4).toString("hex")}`;
  const ledger = await openLedger({ url: `${url}?schema=${schema}` });
  const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  const scratch: ScratchSchema = {
    schema,
    ledger,
    client,
    async close() {
      await ledger.close();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
  try {
    return { scratch, filled: await fill(scratch) };
  } catch (error) {
    await scratch.close().catch(() => {});
    throw error;
  }
}
