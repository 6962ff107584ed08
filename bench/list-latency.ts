/**
 * Run-list latency on a large SQLite ledger (a file in WAL mode): 1,000,000 runs over
 * 1,000 agents in one organization, listed through RunService.list and, as the baseline,
 * by the same SQL on better-sqlite3 prepared statements (raw rows, no mapping).
 *
 *   npx tsx bench/list-latency.ts [--quick] [--rebuild]
 *
 * The populated database is cached in bench/.data/, keyed by size and schema, because
 * populating it takes a while; --rebuild makes it again.
 */
import Database from "better-sqlite3";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { newId } from "../src/core/ids.js";
import type { Actor } from "../src/core/model.js";
import { openLedger } from "../src/ledger.js";
import { cachedSqlite, finishSqlite, prng, schemaTag, sqliteWithAgents } from "./ops-data.js";
import { fmt, hasFlag, markdownTable, msSince, summarize, type Summary } from "./stats.js";

const QUICK = hasFlag("--quick");
const RUNS = QUICK ? 50_000 : 1_000_000;
const AGENTS = QUICK ? 100 : 1_000;
const DEPTH = 10_000;
const WARMUP = QUICK ? 10 : 100;
const ITERATIONS = QUICK ? 50 : 1_000;
const TARGET_P99_MS = 5;
const DAYS = 30;
const STOP_REASONS: Record<string, string> = { completed: "end_turn", failed: "llm_api_error", cancelled: "cancelled" };
/** Bump when populate() changes what it writes, so cached databases are rebuilt. */
const POPULATE_VERSION = 2;

const DATA_DIR = fileURLToPath(new URL("./.data/", import.meta.url));
const FILE = join(DATA_DIR, `runs-${RUNS}-${AGENTS}-${schemaTag(POPULATE_VERSION)}.db`);

/**
 * Writes RUNS runs (with their run_metrics rows) in chronological order over the last DAYS
 * days, ~10 runs to a timestamp. Runs are terminal (85% completed, 10% failed, 5% cancelled)
 * except the newest 0.5%, which take any status.
 */
async function populate(file: string): Promise<void> {
  // Drops this size's databases of earlier schemas too: each is a gigabyte.
  const stale = `runs-${RUNS}-${AGENTS}-`;
  for (const name of existsSync(DATA_DIR) ? readdirSync(DATA_DIR) : []) if (name.startsWith(stale)) rmSync(join(DATA_DIR, name));
  const { db, actor, agentIds } = await sqliteWithAgents(file, { agents: AGENTS });
  const orgId = actor.organization_id;
  const insertRun = db.prepare(
    `INSERT INTO runs (id, organization_id, agent_id, status, stop_reason, created_at, updated_at, completed_at, metadata,
       request_config, tags, started_at, last_heartbeat_at, total_duration_ns)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{"source":"bench"}', '{"use_assistant_message":true}', '["bench"]', ?, ?, ?)`,
  );
  const insertMetrics = db.prepare(
    `INSERT INTO run_metrics (id, organization_id, agent_id, status, run_start_ns, run_ns, num_steps, tools_used,
       prompt_tokens, completion_tokens, total_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, '["web_search"]', ?, ?, ?)`,
  );
  const random = prng(42);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const end = Date.now();
  const meanGapMs = (DAYS * 86_400_000) / (RUNS / 10);
  let t = end - DAYS * 86_400_000;
  let i = 0;
  const batch = db.transaction((upTo: number) => {
    for (; i < upTo; i++) {
      if (random() < 0.1) t += Math.round(random() * 2 * meanGapMs);
      const r = random();
      const status = i >= RUNS * 0.995 ? pick(["created", "running", "completed", "failed", "cancelled"] as const)
        : r < 0.85 ? "completed" : r < 0.95 ? "failed" : "cancelled";
      const terminal = status !== "created" && status !== "running";
      const createdAt = new Date(t).toISOString();
      const durationMs = 500 + Math.floor(random() * 60_000);
      const completedAt = terminal ? new Date(t + durationMs).toISOString() : null;
      const durationNs = terminal ? durationMs * 1_000_000 : null;
      const steps = 1 + Math.floor(random() * 5);
      const id = newId("run");
      const agentId = pick(agentIds);
      insertRun.run(
        id, orgId, agentId, status, STOP_REASONS[status] ?? null, createdAt, completedAt ?? createdAt, completedAt,
        status === "created" ? null : createdAt, completedAt ?? createdAt, durationNs,
      );
      insertMetrics.run(id, orgId, agentId, status, t * 1_000_000, durationNs, steps, steps * 1_200, steps * 150, steps * 1_350);
    }
  });
  const started = process.hrtime.bigint();
  while (i < RUNS) {
    batch(Math.min(RUNS, i + 100_000));
    console.error(`populating: ${fmt(i)} / ${fmt(RUNS)} runs (${fmt(msSince(started) / 1000, 1)} s)`);
  }
  finishSqlite(db);
}

interface Case {
  name: string;
  service(i: number): Promise<{ id: string }[]>;
  raw(i: number): { id: string }[];
}

async function main(): Promise<void> {
  await cachedSqlite(FILE, hasFlag("--rebuild"), populate);
  console.error(`database: ${FILE} (${fmt(statSync(FILE).size / 2 ** 20)} MiB)`);

  const ledger = await openLedger({ url: `sqlite:${FILE}` });
  const db = new Database(FILE, { readonly: true });
  const orgId = db.prepare("SELECT id FROM organizations").pluck().get() as string;
  const actor: Actor = { organization_id: orgId, role: "write" };
  const agentIds = db.prepare("SELECT id FROM agents ORDER BY created_at, id").pluck().all() as string[];

  const visible = "organization_id = ? AND deleted_at IS NULL";
  const page = "ORDER BY created_at DESC, id DESC LIMIT 100";
  const sql = {
    first: db.prepare(`SELECT * FROM runs WHERE ${visible} ${page}`),
    nth: db.prepare(`SELECT id FROM runs WHERE ${visible} ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?`).pluck(),
    cursor: db.prepare(`SELECT created_at, id FROM runs WHERE id = ? AND ${visible}`),
    after: db.prepare(`SELECT * FROM runs WHERE ${visible} AND (created_at, id) < (?, ?) ${page}`),
    agent: db.prepare(`SELECT * FROM runs WHERE ${visible} AND agent_id = ? ${page}`),
    completed: db.prepare(`SELECT * FROM runs WHERE ${visible} AND status = 'completed' ${page}`),
  };
  type Row = { id: string; created_at: string };
  const deepId = sql.nth.get(orgId, DEPTH - 1) as string;
  const agent = (i: number) => agentIds[i % agentIds.length]!;

  const cases: Case[] = [
    { name: "first page (newest 100)", service: () => ledger.runs.list(actor), raw: () => sql.first.all(orgId) as Row[] },
    {
      name: `page ${fmt(DEPTH)} runs deep (after=)`,
      service: () => ledger.runs.list(actor, { after: deepId }),
      raw: () => {
        const key = sql.cursor.get(deepId, orgId) as Row;
        return sql.after.all(orgId, key.created_at, key.id) as Row[];
      },
    },
    {
      name: `agent_id (one of ${fmt(agentIds.length)}, rotating)`,
      service: (i) => ledger.runs.list(actor, { agent_id: agent(i) }),
      raw: (i) => sql.agent.all(orgId, agent(i)) as Row[],
    },
    {
      name: "statuses: [completed]",
      service: () => ledger.runs.list(actor, { statuses: ["completed"] }),
      raw: () => sql.completed.all(orgId) as Row[],
    },
  ];

  const rows: string[][] = [];
  for (const c of cases) {
    const [expected, actual] = [c.raw(0).map((r) => r.id), (await c.service(0)).map((r) => r.id)];
    if (expected.length !== 100 || expected.join() !== actual.join()) throw new Error(`${c.name}: the service and the SQL disagree`);
    const service: number[] = [];
    const raw: number[] = [];
    const time = async (fn: () => unknown) => {
      const start = process.hrtime.bigint();
      await fn();
      return msSince(start);
    };
    for (let i = 0; i < WARMUP + ITERATIONS; i++) {
      // Alternate which goes first, so neither always finds the other's pages in cache.
      let s: number, r: number;
      if (i % 2 === 0) {
        s = await time(() => c.service(i));
        r = await time(() => c.raw(i));
      } else {
        r = await time(() => c.raw(i));
        s = await time(() => c.service(i));
      }
      if (i < WARMUP) continue;
      service.push(s);
      raw.push(r);
    }
    const sv = summarize(service);
    const rw = summarize(raw);
    console.error(`${c.name}: service p99 ${fmt(sv.p99, 3)} ms, raw p99 ${fmt(rw.p99, 3)} ms`);
    rows.push([c.name, ...ms(sv), ...ms(rw), `${fmt(sv.p99 / rw.p99, 1)}×`, `${fmt(sv.p99 / TARGET_P99_MS, 2)} ${sv.p99 < TARGET_P99_MS ? "✓" : "✗"}`]);
  }
  db.close();
  await ledger.close();

  console.log(`${fmt(RUNS)} runs, ${fmt(AGENTS)} agents, ${fmt(ITERATIONS)} iterations per query after ${fmt(WARMUP)} warm-up; times in ms.\n`);
  console.log(
    markdownTable(
      ["query", "service p50", "service p99", "service max", "SQL p50", "SQL p99", "SQL max", "p99 service / SQL", `p99 / ${TARGET_P99_MS} ms target`],
      rows,
    ),
  );
}

function ms(s: Summary): string[] {
  return [fmt(s.p50, 3), fmt(s.p99, 3), fmt(s.max, 3)];
}

await main();
