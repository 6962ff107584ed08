/**
 * A producer over HTTP: full lifecycles against a real server process, against the
 * in-process ledger's lifecycles measured in the same run.
 *
 * One lifecycle is the one `bench/lifecycle.ts` measures (create → running → 3 steps →
 * 5 messages in one batch → completed), driven three ways against
 * `node --import tsx src/main.ts serve` (bench/proc.ts), plus the in-process subject:
 *
 *   client    the project's RunledgerClient, one call per transition
 *   track     track() over a RunledgerClient (it also follows the run's status feed for cancels)
 *   fetch     plain `fetch` with JSON bodies, as a new user would write it
 *   ledger    ledgerLifecycle() from bench/lifecycle.ts on an in-process ledger (fresh database)
 *
 * For each backend (SQLite file; PostgreSQL on a fresh schema) and each number of concurrent
 * producers (1 and 16, each with its own agent), every subject gets a warm-up, then the four
 * take turns for ROUNDS rounds of CHUNK lifecycles, the order rotating each round, so that
 * background load hits them alike. The rate is all timed lifecycles over all timed seconds;
 * the ratio is HTTP over in-process.
 *
 * The server logs at LOG_LEVEL=info, as `npm start` does (`--log-level=warn` to compare).
 * The table's last columns: the server's CPU share of one core during each subject's turns,
 * and p50 per request of the `fetch` producer. A second table splits the fetch producer's
 * mean request time into the server's part (its own request-duration histogram, scraped
 * from /metrics around each turn) and the whole as the client saw it.
 *
 *   npx tsx bench/http-producer.ts [--quick] [--only=sqlite|postgres] [--log-level=warn] [--profile]
 *
 * --profile runs the servers under `node --cpu-prof` and prints a summary of each profile.
 * RUNLEDGER_BENCH_POSTGRES_URL overrides postgres://postgres@127.0.0.1:5432/test.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { RunledgerClient } from "../src/client/http-client.js";
import { track } from "../src/client/track.js";
import { type Backend, freshDatabase, ledgerLifecycle, MESSAGES, PG_URL, postgresAnswers, STEP } from "./lifecycle.js";
import { CpuWindow, runMain, startServer, stopProcess, watchdog } from "./proc.js";
import { fmt, hasFlag, markdownTable, msSince, percentile, runWorkers } from "./stats.js";

const QUICK = hasFlag("--quick");
const PROFILE = hasFlag("--profile");
const ONLY = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length) as Backend | undefined;
const LOG_LEVEL = process.argv.find((a) => a.startsWith("--log-level="))?.slice("--log-level=".length) ?? "info";
const PRODUCERS = [1, 16];
const ROUNDS = QUICK ? 2 : 6;
const COUNTS: Record<Backend, { warmup: number; chunk: number }> = {
  sqlite: QUICK ? { warmup: 10, chunk: 20 } : { warmup: 100, chunk: 200 },
  postgres: QUICK ? { warmup: 10, chunk: 20 } : { warmup: 60, chunk: 100 },
};
const TARGET = 0.5;
const ADMIN_KEY = `rlk_producerbenc_${randomBytes(24).toString("base64url")}`;

type Subject = "client" | "track" | "fetch" | "ledger";
const SUBJECTS: readonly Subject[] = ["client", "track", "fetch", "ledger"];
const HTTP_SUBJECTS = ["client", "track", "fetch"] as const;
const REQUESTS = ["create", "running", "step", "messages", "completed"] as const;
type RequestName = (typeof REQUESTS)[number];

/** The lifecycle as a new user writes it with fetch; records each request's latency. */
function fetchProducer(baseUrl: string, latencies: Record<RequestName, number[]>) {
  const headers = { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" };
  const send = async <T>(name: RequestName, method: string, path: string, body: unknown): Promise<T> => {
    const start = process.hrtime.bigint();
    const response = await fetch(`${baseUrl}${path}`, { method, headers, body: JSON.stringify(body) });
    const parsed = (await response.json()) as T;
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${JSON.stringify(parsed)}`);
    latencies[name].push(msSince(start));
    return parsed;
  };
  return async (agentId: string) => {
    const run = await send<{ id: string }>("create", "POST", "/v1/runs", { agent_id: agentId });
    await send("running", "PATCH", `/v1/runs/${run.id}`, { status: "running" });
    for (let i = 0; i < 3; i++) await send("step", "POST", `/v1/runs/${run.id}/steps`, STEP);
    await send("messages", "POST", `/v1/runs/${run.id}/messages`, { messages: MESSAGES });
    await send("completed", "PATCH", `/v1/runs/${run.id}`, { status: "completed", stop_reason: "end_turn" });
  };
}

async function clientLifecycle(client: RunledgerClient, agentId: string): Promise<void> {
  const run = await client.createRun({ agent_id: agentId });
  await client.updateRun(run.id, { status: "running" });
  for (let i = 0; i < 3; i++) await client.recordStep(run.id, STEP);
  await client.appendMessages(run.id, MESSAGES);
  await client.updateRun(run.id, { status: "completed", stop_reason: "end_turn" });
}

async function trackLifecycle(client: RunledgerClient, agentId: string): Promise<void> {
  await track(client, { agent_id: agentId, onError: (error) => { throw error; } }, async (run) => {
    for (let i = 0; i < 3; i++) await run.step(STEP);
    await run.messages(MESSAGES);
  });
}

/** The fetch producer's requests by the server's route names, for its request-duration histogram. */
const ROUTES: Record<string, readonly RequestName[]> = {
  "POST /v1/runs": ["create"],
  "PATCH /v1/runs/:run_id": ["running", "completed"],
  "POST /v1/runs/:run_id/steps": ["step"],
  "POST /v1/runs/:run_id/messages": ["messages"],
};

/** Seconds and requests per "METHOD route" so far, from the server's /metrics. */
async function serverTimes(baseUrl: string): Promise<Map<string, { sum: number; count: number }>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const times = new Map<string, { sum: number; count: number }>();
  for (const match of text.matchAll(/^runledger_http_request_duration_seconds_(sum|count)\{method="(\w+)",route="([^"]+)"[^}]*\} (\S+)$/gm)) {
    const key = `${match[2]} ${match[3]}`;
    const entry = times.get(key) ?? { sum: 0, count: 0 };
    entry[match[1] as "sum" | "count"] += Number(match[4]);
    times.set(key, entry);
  }
  return times;
}

interface Result {
  rate: Record<Subject, number>;
  /** Lowest and highest HTTP/in-process ratio of a single round, per HTTP subject. */
  rounds: Record<(typeof HTTP_SUBJECTS)[number], [number, number]>;
  serverCpu: Record<Subject, number>;
  p50: Record<RequestName, number>;
  /** Per route of the fetch producer: mean ms in the server (its own histogram) and at the client. */
  split: Record<string, { server: number; client: number }>;
}

async function measure(backend: Backend, producers: number, baseUrl: string, serverPid: number): Promise<Result> {
  const { warmup, chunk } = COUNTS[backend];
  const client = new RunledgerClient({ baseUrl, apiKey: ADMIN_KEY });
  const agentIds: string[] = [];
  for (let i = 0; i < producers; i++) agentIds.push((await fetchJson<{ id: string }>(baseUrl, "POST", "/v1/agents", { name: `producer ${i}` })).id);
  const latencies = Object.fromEntries(REQUESTS.map((r) => [r, [] as number[]])) as Record<RequestName, number[]>;
  const plain = fetchProducer(baseUrl, latencies);
  const local = await freshDatabase(backend, producers);
  try {
    const lifecycles: Record<Subject, (worker: number) => Promise<void>> = {
      client: (w) => clientLifecycle(client, agentIds[w]!),
      track: (w) => trackLifecycle(client, agentIds[w]!),
      fetch: (w) => plain(agentIds[w]!),
      ledger: (w) => ledgerLifecycle(local.ledger, local.actor, local.agentIds[w]!),
    };
    const run = async (subject: Subject, count: number) => {
      const start = process.hrtime.bigint();
      await runWorkers(count, producers, lifecycles[subject]);
      return msSince(start) / 1000;
    };
    for (const subject of SUBJECTS) await run(subject, warmup);
    for (const name of REQUESTS) latencies[name].length = 0;
    const seconds = Object.fromEntries(SUBJECTS.map((s) => [s, 0])) as Record<Subject, number>;
    const cpu = Object.fromEntries(SUBJECTS.map((s) => [s, 0])) as Record<Subject, number>;
    const ratios = Object.fromEntries(HTTP_SUBJECTS.map((s) => [s, [] as number[]])) as Record<(typeof HTTP_SUBJECTS)[number], number[]>;
    const inServer = new Map<string, { sum: number; count: number }>();
    for (let round = 0; round < ROUNDS; round++) {
      const order = SUBJECTS.map((_, i) => SUBJECTS[(i + round) % SUBJECTS.length]!);
      const taken = {} as Record<Subject, number>;
      for (const subject of order) {
        const window = new CpuWindow([serverPid]);
        const before = subject === "fetch" ? await serverTimes(baseUrl) : undefined;
        taken[subject] = await run(subject, chunk);
        const { perPid, seconds: windowSeconds } = window.stop();
        if (before !== undefined) {
          for (const [key, after] of await serverTimes(baseUrl)) {
            const start = before.get(key) ?? { sum: 0, count: 0 };
            const total = inServer.get(key) ?? { sum: 0, count: 0 };
            inServer.set(key, { sum: total.sum + after.sum - start.sum, count: total.count + after.count - start.count });
          }
        }
        cpu[subject] += perPid.get(serverPid)! * windowSeconds;
        seconds[subject] += taken[subject];
      }
      for (const subject of HTTP_SUBJECTS) ratios[subject].push(taken.ledger / taken[subject]);
      console.error(`${backend} ×${producers} round ${round + 1}: ${order.map((s) => `${s} ${fmt(chunk / taken[s])}/s`).join(", ")}`);
    }
    const total = ROUNDS * chunk;
    return {
      rate: Object.fromEntries(SUBJECTS.map((s) => [s, total / seconds[s]])) as Record<Subject, number>,
      rounds: Object.fromEntries(HTTP_SUBJECTS.map((s) => [s, [Math.min(...ratios[s]), Math.max(...ratios[s])]])) as Result["rounds"],
      serverCpu: Object.fromEntries(SUBJECTS.map((s) => [s, cpu[s] / seconds[s]])) as Record<Subject, number>,
      p50: Object.fromEntries(REQUESTS.map((r) => [r, percentile([...latencies[r]].sort((a, b) => a - b), 50)])) as Record<RequestName, number>,
      split: Object.fromEntries(
        Object.entries(ROUTES).map(([route, names]) => {
          const server = inServer.get(route) ?? { sum: 0, count: 1 };
          const client = names.flatMap((n) => latencies[n]);
          return [route, { server: (server.sum * 1000) / Math.max(1, server.count), client: client.reduce((a, b) => a + b, 0) / Math.max(1, client.length) }];
        }),
      ),
    };
  } finally {
    await local.dispose();
  }
}

async function fetchJson<T>(baseUrl: string, method: string, path: string, body: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** A server process on a fresh database of `backend`; `dispose` stops it and removes the database. */
async function serverOn(backend: Backend) {
  const dir = mkdtempSync(join(tmpdir(), "runledger-producer-"));
  const schema = `bench_${randomBytes(6).toString("hex")}`;
  const url = backend === "sqlite" ? `sqlite:${join(dir, "bench.db")}` : `${PG_URL}?schema=${schema}`;
  const server = await startServer(
    { DATABASE_URL: url, RUNLEDGER_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL },
    PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [],
  );
  return {
    server,
    async dispose() {
      await stopProcess(server.child, 30_000);
      if (PROFILE) {
        const { summarizeProfile } = await import("./cpuprofile-summary.js");
        for (const file of readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))) {
          console.error(`\nCPU profile of the ${backend} server:\n${summarizeProfile(join(dir, file))}`);
        }
      }
      if (backend === "postgres") {
        const admin = new pg.Client({ connectionString: PG_URL });
        await admin.connect();
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await admin.end();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  watchdog(60 * 60_000, "http-producer");
  const available: Backend[] = (await postgresAnswers()) ? ["sqlite", "postgres"] : ["sqlite"];
  const backends = available.filter((b) => ONLY === undefined || b === ONLY);
  const rows: string[][] = [];
  const splits: string[][] = [];
  for (const backend of backends) {
    const { server, dispose } = await serverOn(backend);
    try {
      for (const producers of PRODUCERS) {
        const result = await measure(backend, producers, server.baseUrl, server.pid);
        for (const subject of HTTP_SUBJECTS) {
          const ratio = result.rate[subject] / result.rate.ledger;
          const [low, high] = result.rounds[subject];
          rows.push([
            backend, String(producers), subject, `${ROUNDS} × ${COUNTS[backend].chunk}`, fmt(result.rate[subject]), fmt(result.rate.ledger),
            `${fmt(ratio, 2)}×`, `${fmt(low, 2)}–${fmt(high, 2)}×`, `${fmt(ratio / TARGET, 2)}× ${ratio >= TARGET ? "✓" : "✗"}`,
            `${fmt(result.serverCpu[subject] * 100)}%`,
            subject === "fetch" ? REQUESTS.map((r) => `${r} ${fmt(result.p50[r], 2)}`).join(", ") : "",
          ]);
        }
        console.error(`${backend} ×${producers}: ${SUBJECTS.map((s) => `${s} ${fmt(result.rate[s])}/s`).join(", ")}`);
        splits.push([
          backend, String(producers),
          ...Object.values(result.split).map(({ server, client }) => `${fmt(server, 2)} / ${fmt(client, 2)}`),
        ]);
      }
    } finally {
      await dispose();
    }
  }
  console.log(`server LOG_LEVEL=${LOG_LEVEL}\n`);
  console.log(
    markdownTable(
      [
        "backend", "producers", "HTTP producer", "timed lifecycles", "HTTP lifecycles/s", "in-process lifecycles/s", "HTTP / in-process",
        "per round", `vs target (≥ ${TARGET}×)`, "server CPU", "fetch p50 ms per request",
      ],
      rows,
    ),
  );
  console.log("\nfetch producer, mean ms per request: in the server (its request-duration histogram) / at the client\n");
  console.log(markdownTable(["backend", "producers", ...Object.keys(ROUTES)], splits));
}

runMain(main);
