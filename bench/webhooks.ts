/**
 * Webhook delivery: deliveries per second to a local receiver, and latency from a run's
 * terminal transition (its commit) to the receiver getting the POST.
 *
 * In process: `openLedger({url, webhookAllowlist: ["127.0.0.1"]})`, a WebhookDispatcher
 * (AddressGuard(["127.0.0.1"]), retries 200 ms / 500 ms / 1 s, timeout 5 s) and a local
 * node:http receiver answering 200 at once. As in a server process, the dispatcher shares
 * its ledger (SQLite connection, PostgreSQL pool of 10) with the writes.
 *
 *   burst   N runs with callback_url are created and set running, then completed as fast as
 *           16 concurrent callers can (each completion's time = when runs.update resolved,
 *           i.e. just after its commit); throughput = N / (last receipt − first completion);
 *           latency = receipt − completion (includes queueing behind the backlog). It cannot
 *           exceed the completion rate, which is shown beside it.
 *           Dispatcher concurrency 16 / 32 / 64; the best is used for everything after.
 *           On PostgreSQL also 2 dispatcher ledgers on the schema in this process, and 2
 *           dispatcher processes (bench/webhook-dispatcher-child.ts) with this process only
 *           completing runs and receiving.
 *   steady  100 completions/s for 10 s (open loop) — latency where queueing does not dominate.
 *   drain   N runs completed while no dispatcher runs, then one starts: the dispatcher's own
 *           rate, with its claim transactions counted (WebhookRepo.claimDue wrapped here)
 *           and CPU of this process and of PostgreSQL's processes; on PostgreSQL also at
 *           concurrency 64 with pool 10 and 30. With --profile, one more drain under the V8
 *           CPU profiler (node:inspector, this process; bench/profiles/*.cpuprofile),
 *           summarized by bench/cpuprofile-summary.ts.
 *   parts   the pieces of one attempt timed alone at concurrency 32: the HTTP POST as the
 *           sender makes it (agent:false, a new connection each) vs over a keep-alive agent,
 *           the per-attempt secret-lookup transaction vs the bare SELECT, the claim query.
 *
 * "unrelated CPU" is what other processes on the machine (not PostgreSQL, not the
 * dispatcher children) used meanwhile, as a share of one core.
 *
 *   npx tsx bench/webhooks.ts [--quick] [--profile]
 *
 * RUNLEDGER_BENCH_POSTGRES_URL overrides postgres://postgres@127.0.0.1:5432/test.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Actor } from "../src/core/model.js";
import { openLedger, type Ledger } from "../src/ledger.js";
import { liveSecrets } from "../src/webhooks/service.js";
import { AddressGuard } from "../src/webhooks/address-guard.js";
import { send } from "../src/webhooks/sender.js";
import { WebhookRepo } from "../src/store/repos/webhooks.js";
import { WebhookDispatcher } from "../src/webhooks/dispatcher.js";
import { summarizeProfile } from "./cpuprofile-summary.js";
import { execFileSync } from "node:child_process";
import { CpuWindow, cpuSeconds, forkHelper, onExit, ROOT, runMain, sleep, stopProcess, watchdog } from "./proc.js";
import { fmt, hasFlag, markdownTable, runWorkers, summarize } from "./stats.js";
import { storeOf } from "../src/store/store.js";

const QUICK = hasFlag("--quick");
const PROFILE = hasFlag("--profile");
const PG_URL = process.env.RUNLEDGER_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const BURST = QUICK ? 300 : 3_000;
const STEADY_RATE = 100;
const STEADY_S = QUICK ? 3 : 10;
const CONCURRENCIES = QUICK ? [16, 64] : [16, 32, 64];
const COMPLETERS = 16;
const PARTS_OPS = QUICK ? 300 : 3_000;
const PARTS_CONCURRENCY = 32;
const TARGET_P50_MS = 50;
const TARGET_RATE = 1_000;
const RETRIES = [200, 500, 1_000];
const GUARD = new AddressGuard(["127.0.0.1"]);

watchdog((QUICK ? 10 : 40) * 60_000, "webhooks bench");

type Backend = "sqlite" | "postgres";

// Counts the dispatcher's claims (calls and rows) — instrumentation of this process only.
const claims = { calls: 0, rows: 0 };
const claimDue = WebhookRepo.prototype.claimDue;
WebhookRepo.prototype.claimDue = async function (this: WebhookRepo, ...args: Parameters<typeof claimDue>) {
  const rows = await claimDue.apply(this, args);
  claims.calls++;
  claims.rows += rows.length;
  return rows;
};

/** CPU seconds used so far by this process and by all PostgreSQL server processes. */
function cpuSnapshot(): { self: number; postgres: Map<number, number> } {
  const usage = process.cpuUsage();
  const postgres = new Map<number, number>();
  let pids: string[];
  try {
    pids = execFileSync("pgrep", ["-u", "postgres"], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
  } catch {
    pids = [];
  }
  for (const pid of pids) {
    try {
      postgres.set(Number(pid), cpuSeconds(Number(pid)));
    } catch {
      // gone
    }
  }
  return { self: (usage.user + usage.system) / 1e6, postgres };
}

function cpuShares(a: ReturnType<typeof cpuSnapshot>, b: ReturnType<typeof cpuSnapshot>, seconds: number): { self: number; postgres: number } {
  let postgres = 0;
  for (const [pid, end] of b.postgres) postgres += end - (a.postgres.get(pid) ?? 0);
  return { self: (b.self - a.self) / seconds, postgres: postgres / seconds };
}

// ---------------------------------------------------------------------------------------
// The receiver: records when each run's webhook arrived (first time), answers 200 at once.

interface Receiver {
  url: string;
  receipts: Map<string, number>;
  requests: number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = { url: "", receipts: new Map(), requests: 0, close: async () => {} };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", () => {
      const at = performance.now();
      receiver.requests++;
      try {
        const runId = (JSON.parse(Buffer.concat(chunks).toString()) as { run_id?: string }).run_id;
        if (runId !== undefined && !receiver.receipts.has(runId)) receiver.receipts.set(runId, at);
      } catch {
        // not a webhook
      }
      response.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  receiver.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/hook`;
  receiver.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}

// ---------------------------------------------------------------------------------------
// A fresh database per measurement.

interface Db {
  url: string;
  ledgers: Ledger[];
  actor: Actor;
  agentId: string;
  dispose(): Promise<void>;
}

async function freshDb(backend: Backend, ledgers = 1, poolSize?: number): Promise<Db> {
  let url: string;
  let cleanup: (first: Ledger) => Promise<void>;
  if (backend === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "runledger-bench-webhooks-"));
    const remove = () => rmSync(dir, { recursive: true, force: true });
    onExit(remove);
    url = `sqlite:${join(dir, "b.db")}`;
    cleanup = async () => remove();
  } else {
    const schema = `bench_${randomBytes(5).toString("hex")}`;
    url = `${PG_URL}?schema=${schema}`;
    cleanup = async (first) => void (await storeOf(first).driver.run(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  }
  const opened: Ledger[] = [];
  for (let i = 0; i < ledgers; i++) opened.push(await openLedger({ url, webhookAllowlist: ["127.0.0.1"], poolSize }));
  const first = opened[0]!;
  const org = await first.organizations.createTrusted("webhooks bench");
  const actor: Actor = { organization_id: org.id, role: "write" };
  const agent = await first.agents.create(actor, { name: "webhooks bench" });
  // The organization's signing secret exists before the first attempt, as it would in use.
  await storeOf(first).transaction((tx) => liveSecrets(tx, org.id));
  return {
    url,
    ledgers: opened,
    actor,
    agentId: agent.id,
    async dispose() {
      await cleanup(first);
      for (const ledger of opened) await ledger.close();
    },
  };
}

function dispatcherFor(ledger: Ledger, concurrency: number, errors: unknown[]): WebhookDispatcher {
  return new WebhookDispatcher(storeOf(ledger), ledger.bus, {
    guard: GUARD,
    retryScheduleMs: RETRIES,
    timeoutMs: 5_000,
    concurrency,
    onError: (error) => errors.push(error),
  });
}

async function runningRuns(db: Db, receiverUrl: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  const ledger = db.ledgers[0]!;
  await runWorkers(n, 8, async () => {
    const run = await ledger.runs.create(db.actor, { agent_id: db.agentId, callback_url: receiverUrl });
    await ledger.runs.update(db.actor, run.id, { status: "running" });
    ids.push(run.id);
  });
  return ids;
}

async function waitReceipts(receiver: Receiver, ids: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && ids.some((id) => !receiver.receipts.has(id))) await sleep(20);
}

interface Outcome {
  label: string;
  backend: Backend;
  n: number;
  delivered: number;
  perSecond: number;
  /** Completions per second (first to last completion), when runs were completed during the measurement. */
  completionRate: number | undefined;
  latencies: number[];
  attempts: number;
  duplicates: number;
  errors: number;
  /** Drain only: claim transactions, rows per claim, CPU shares (of one core). */
  detail?: string;
  /** CPU (share of one core) of processes unrelated to this measurement while it ran. */
  otherLoad?: number;
}

async function countAttempts(db: Db): Promise<number> {
  const row = await storeOf(db.ledgers[0]!).driver.get<{ n: number | string }>("SELECT count(*) AS n FROM webhook_attempts");
  return Number(row?.n ?? 0);
}

function outcome(
  label: string,
  backend: Backend,
  ids: readonly string[],
  completedAt: Map<string, number>,
  receiver: Receiver,
  attempts: number,
  errors: number,
  completions = true,
): Outcome {
  const latencies: number[] = [];
  let lastReceipt = 0;
  for (const id of ids) {
    const at = receiver.receipts.get(id);
    if (at === undefined) continue;
    latencies.push(at - completedAt.get(id)!);
    lastReceipt = Math.max(lastReceipt, at);
  }
  const firstCompletion = Math.min(...completedAt.values());
  const lastCompletion = Math.max(...completedAt.values());
  return {
    label,
    backend,
    n: ids.length,
    delivered: latencies.length,
    perSecond: latencies.length / ((lastReceipt - firstCompletion) / 1000),
    completionRate: completions ? ids.length / ((lastCompletion - firstCompletion) / 1000) : undefined,
    latencies,
    attempts,
    duplicates: receiver.requests - receiver.receipts.size,
    errors,
  };
}

/** Completes every run as fast as COMPLETERS concurrent callers can; returns when each committed. */
async function completeAll(db: Db, ids: readonly string[]): Promise<Map<string, number>> {
  const completedAt = new Map<string, number>();
  const ledger = db.ledgers[0]!;
  let next = 0;
  await runWorkers(ids.length, COMPLETERS, async () => {
    const id = ids[next++]!;
    await ledger.runs.update(db.actor, id, { status: "completed" });
    completedAt.set(id, performance.now());
  });
  return completedAt;
}

/** Completes the runs at `rate` per second, open loop. */
async function completePaced(db: Db, ids: readonly string[], rate: number): Promise<Map<string, number>> {
  const completedAt = new Map<string, number>();
  const ledger = db.ledgers[0]!;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < ids.length; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    const id = ids[i]!;
    pending.push(ledger.runs.update(db.actor, id, { status: "completed" }).then(() => void completedAt.set(id, performance.now())));
  }
  await Promise.all(pending);
  return completedAt;
}

/** Processes that are part of a measurement: PostgreSQL's, and the dispatcher children. */
const ours = (_pid: number, cmd: string) => cmd.startsWith("postgres") || cmd.includes("webhook-dispatcher-child");

function otherLoad(window: CpuWindow): number {
  return window.stop(ours).others.reduce((n, o) => n + o.share, 0);
}

type Dispatch = "in-process" | "2 ledgers in-process" | "2 processes";

/** Starts the dispatchers of a setup; returns a stop function. */
async function startDispatch(db: Db, mode: Dispatch, concurrency: number, errors: unknown[]): Promise<() => Promise<void>> {
  if (mode === "2 processes") {
    const children = [0, 1].map(() => forkHelper("bench/webhook-dispatcher-child.ts", [db.url, String(concurrency)]));
    await Promise.all(children.map((child) => new Promise<void>((resolve) => child.once("message", () => resolve()))));
    return async () => void (await Promise.all(children.map((child) => stopProcess(child, 10_000))));
  }
  const dispatchers = (mode === "in-process" ? [db.ledgers[0]!] : db.ledgers).map((ledger) => dispatcherFor(ledger, concurrency, errors));
  dispatchers.forEach((d) => d.start());
  return async () => void (await Promise.all(dispatchers.map((d) => d.stop())));
}

async function burst(backend: Backend, concurrency: number, mode: Dispatch): Promise<Outcome> {
  const db = await freshDb(backend, mode === "2 ledgers in-process" ? 2 : 1);
  const receiver = await startReceiver();
  const errors: unknown[] = [];
  try {
    const ids = await runningRuns(db, receiver.url, BURST);
    const stop = await startDispatch(db, mode, concurrency, errors);
    const window = new CpuWindow([]);
    const completedAt = await completeAll(db, ids);
    await waitReceipts(receiver, ids, 60_000);
    const other = otherLoad(window);
    await sleep(200);
    await stop();
    const result = outcome(`burst, ${mode}, concurrency ${concurrency}`, backend, ids, completedAt, receiver, await countAttempts(db), errors.length);
    result.otherLoad = other;
    return result;
  } finally {
    await receiver.close();
    await db.dispose();
  }
}

async function steady(backend: Backend, concurrency: number, mode: Dispatch): Promise<Outcome> {
  const db = await freshDb(backend, mode === "2 ledgers in-process" ? 2 : 1);
  const receiver = await startReceiver();
  const errors: unknown[] = [];
  try {
    const ids = await runningRuns(db, receiver.url, STEADY_RATE * STEADY_S);
    const stop = await startDispatch(db, mode, concurrency, errors);
    // A short warm-up of the same path, not measured.
    const warm = await runningRuns(db, receiver.url, 50);
    await completePaced(db, warm, STEADY_RATE);
    await waitReceipts(receiver, warm, 10_000);
    receiver.requests = 0;
    receiver.receipts.clear();
    const window = new CpuWindow([]);
    const completedAt = await completePaced(db, ids, STEADY_RATE);
    await waitReceipts(receiver, ids, 30_000);
    const other = otherLoad(window);
    await sleep(200);
    await stop();
    const result = outcome(`steady ${STEADY_RATE}/s for ${STEADY_S} s, ${mode}, concurrency ${concurrency}`, backend, ids, completedAt, receiver, (await countAttempts(db)) - warm.length, errors.length);
    result.otherLoad = other;
    return result;
  } finally {
    await receiver.close();
    await db.dispose();
  }
}

/** Completes N runs with no dispatcher, then starts one: the outbox drain alone (optionally profiled). */
async function drain(backend: Backend, concurrency: number, profile: boolean, poolSize?: number): Promise<{ outcome: Outcome; profileFile?: string }> {
  const db = await freshDb(backend, 1, poolSize);
  const receiver = await startReceiver();
  const errors: unknown[] = [];
  try {
    const ids = await runningRuns(db, receiver.url, BURST);
    await completeAll(db, ids);
    await sleep(500);
    let session: Session | undefined;
    if (profile) {
      session = new Session();
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: 200 });
      await session.post("Profiler.start");
    }
    const started = performance.now();
    const window = new CpuWindow([]);
    const cpu0 = cpuSnapshot();
    claims.calls = 0;
    claims.rows = 0;
    const dispatcher = dispatcherFor(db.ledgers[0]!, concurrency, errors);
    dispatcher.start();
    await waitReceipts(receiver, ids, 60_000);
    const seconds = (performance.now() - started) / 1000;
    const shares = cpuShares(cpu0, cpuSnapshot(), seconds);
    const other = otherLoad(window);
    const claimCalls = claims.calls;
    const claimRows = claims.rows;
    const startedAt = new Map(ids.map((id) => [id, started]));
    let profileFile: string | undefined;
    if (session !== undefined) {
      const { profile: cpuProfile } = await session.post("Profiler.stop");
      session.disconnect();
      const dir = join(ROOT, "bench", "profiles");
      mkdirSync(dir, { recursive: true });
      profileFile = join(dir, `webhooks-drain-${backend}.cpuprofile`);
      writeFileSync(profileFile, JSON.stringify(cpuProfile));
    }
    await dispatcher.stop();
    const pool = backend === "postgres" ? `, pool ${poolSize ?? 10}` : "";
    const result = outcome(`drain of ${fmt(BURST)} queued deliveries, concurrency ${concurrency}${pool}`, backend, ids, startedAt, receiver, await countAttempts(db), errors.length, false);
    result.otherLoad = other;
    result.detail =
      `${fmt(claimCalls)} claim transactions for ${fmt(claimRows)} deliveries (${fmt(claimRows / Math.max(1, claimCalls), 1)} per claim, empty ones included); ` +
      `CPU: this process (dispatcher + receiver) ${fmt(shares.self * 100)}% of a core` +
      (backend === "postgres" ? `, PostgreSQL server processes ${fmt(shares.postgres * 100)}%` : "") +
      (profile ? " (while profiling)" : "");
    return { outcome: result, profileFile };
  } finally {
    await receiver.close();
    await db.dispose();
  }
}

// ---------------------------------------------------------------------------------------
// The pieces of one attempt, timed alone.

interface Part {
  backend: string;
  part: string;
  perSecond: number;
  p50: number;
  p99: number;
}

async function timeOps(label: string, backend: string, op: () => Promise<unknown>): Promise<Part> {
  for (let i = 0; i < 100; i++) await op();
  const latencies: number[] = [];
  const t0 = performance.now();
  await runWorkers(PARTS_OPS, PARTS_CONCURRENCY, async () => {
    const s = performance.now();
    await op();
    latencies.push(performance.now() - s);
  });
  const seconds = (performance.now() - t0) / 1000;
  const s = summarize(latencies);
  return { backend, part: label, perSecond: PARTS_OPS / seconds, p50: s.p50, p99: s.p99 };
}

async function parts(backend: Backend): Promise<Part[]> {
  const out: Part[] = [];
  const receiver = await startReceiver();
  const db = await freshDb(backend);
  try {
    const body = JSON.stringify({ type: "run.completed", run_id: "run-00000000-0000-4000-8000-000000000000", status: "completed" });
    const headers = { "webhook-id": "delivery-x", "webhook-timestamp": "0", "webhook-signature": "v1,x" };
    if (backend === "sqlite") {
      out.push(await timeOps("HTTP POST as sent (sender.ts: agent:false, new connection each)", "–", () => send(receiver.url, headers, body, GUARD, 5_000)));
      const agent = new http.Agent({ keepAlive: true, maxSockets: PARTS_CONCURRENCY });
      out.push(
        await timeOps("HTTP POST over a keep-alive agent (comparison, not in src)", "–", () =>
          new Promise<void>((resolve, reject) => {
            const request = http.request(receiver.url, { method: "POST", agent, headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (response) => {
              response.resume();
              response.on("end", resolve);
            });
            request.on("error", reject);
            request.end(body);
          }),
        ),
      );
      agent.destroy();
    }
    const store = storeOf(db.ledgers[0]!);
    const org = db.actor.organization_id;
    out.push(await timeOps("secret lookup as done per attempt (liveSecrets in a transaction)", backend, () => store.transaction((tx) => liveSecrets(tx, org))));
    out.push(await timeOps("the same SELECT without a transaction (comparison)", backend, () => store.read.webhooks.getSecrets(org)));
    out.push(
      await timeOps("claim transaction (claimDue, empty outbox)", backend, () =>
        store.transaction((tx) => tx.webhooks.claimDue(new Date().toISOString(), new Date(Date.now() + 11_000).toISOString(), 32)),
      ),
    );
    return out;
  } finally {
    await receiver.close();
    await db.dispose();
  }
}

// ---------------------------------------------------------------------------------------

function row(o: Outcome): (string | number)[] {
  const s = o.latencies.length > 0 ? summarize(o.latencies) : undefined;
  return [
    o.backend === "sqlite" ? "SQLite" : "PostgreSQL",
    o.label,
    `${fmt(o.delivered)}/${fmt(o.n)}`,
    o.completionRate === undefined ? "–" : fmt(o.completionRate),
    fmt(o.perSecond),
    s ? fmt(s.p50, 1) : "–",
    s ? fmt(s.p99, 1) : "–",
    s ? fmt(s.max, 1) : "–",
    `${fmt(o.attempts)} / ${fmt(o.duplicates)} / ${fmt(o.errors)}`,
    o.otherLoad === undefined ? "–" : `${fmt(o.otherLoad * 100)}%`,
  ];
}

function log(o: Outcome): void {
  const s = o.latencies.length > 0 ? summarize(o.latencies) : undefined;
  console.error(
    `  ${o.backend} ${o.label}: ${o.delivered}/${o.n}, ${fmt(o.perSecond)}/s (completions ${o.completionRate === undefined ? "–" : fmt(o.completionRate)}/s)` + (s ? `, p50 ${fmt(s.p50, 1)} p99 ${fmt(s.p99, 1)} ms` : "") + `, attempts ${o.attempts}, dup ${o.duplicates}`,
  );
}

async function main(): Promise<void> {
  console.error(`webhooks bench${QUICK ? " (quick)" : ""}: burst ${BURST}, steady ${STEADY_RATE}/s × ${STEADY_S} s`);
  const bursts: Outcome[] = [];
  const steadies: Outcome[] = [];
  const drains: Outcome[] = [];
  const profiledDrains: Outcome[] = [];
  const partRows: Part[] = [];
  const profiles: string[] = [];
  const best: Record<Backend, number> = { sqlite: CONCURRENCIES[0]!, postgres: CONCURRENCIES[0]! };

  for (const backend of ["sqlite", "postgres"] as const) {
    let bestRate = 0;
    for (const concurrency of CONCURRENCIES) {
      const o = await burst(backend, concurrency, "in-process");
      log(o);
      bursts.push(o);
      if (o.delivered === o.n && o.perSecond > bestRate) {
        bestRate = o.perSecond;
        best[backend] = concurrency;
      }
    }
    if (backend === "postgres") {
      for (const mode of ["2 ledgers in-process", "2 processes"] as const) {
        const o = await burst(backend, best[backend], mode);
        log(o);
        bursts.push(o);
      }
    }
    const s = await steady(backend, best[backend], "in-process");
    log(s);
    steadies.push(s);
    if (backend === "postgres") {
      const s2 = await steady(backend, best[backend], "2 processes");
      log(s2);
      steadies.push(s2);
    }
    const d = await drain(backend, best[backend], false);
    log(d.outcome);
    drains.push(d.outcome);
    if (backend === "postgres") {
      for (const [c, poolSize] of [
        [64, 10],
        [64, 30],
      ] as const) {
        if (c === best[backend] && poolSize === 10) continue;
        const variant = await drain(backend, c, false, poolSize);
        log(variant.outcome);
        drains.push(variant.outcome);
      }
    }
    if (PROFILE) {
      const profiled = await drain(backend, best[backend], true);
      log(profiled.outcome);
      profiledDrains.push(profiled.outcome);
      if (profiled.profileFile !== undefined) profiles.push(profiled.profileFile);
    }
    partRows.push(...(await parts(backend)));
  }

  const headers = ["backend", "measurement", "delivered", "completions/s", "deliveries/s", "p50 ms", "p99 ms", "max ms", "attempts / duplicates / errors", "unrelated CPU"];
  const out: string[] = [];
  out.push(`### Burst: ${fmt(BURST)} runs completed by ${COMPLETERS} concurrent callers while the dispatcher sends`);
  out.push("");
  out.push(markdownTable(headers, bursts.map(row)));
  out.push("");
  out.push(`Best concurrency: SQLite ${best.sqlite}, PostgreSQL ${best.postgres} (used below).`);
  out.push("");
  out.push(`### Steady ${STEADY_RATE} completions/s for ${STEADY_S} s (completion commit → receipt)`);
  out.push("");
  out.push(markdownTable(headers, steadies.map(row)));
  out.push("");
  out.push("### Outbox drain alone (runs completed first, then one dispatcher starts; latency = from its start)");
  out.push("");
  out.push(markdownTable(headers, drains.map(row)));
  out.push("");
  for (const d of drains) if (d.detail) out.push(`- ${d.backend === "sqlite" ? "SQLite" : "PostgreSQL"}: ${d.detail}`);
  for (const d of profiledDrains) {
    out.push(`- ${d.backend === "sqlite" ? "SQLite" : "PostgreSQL"}, profiled drain: ${fmt(d.perSecond)} deliveries/s; ${d.detail}`);
  }
  out.push("");
  out.push(`### The pieces of one attempt, timed alone (${fmt(PARTS_OPS)} ops at concurrency ${PARTS_CONCURRENCY})`);
  out.push("");
  out.push(markdownTable(["backend", "operation", "ops/s", "p50 ms", "p99 ms"], partRows.map((p) => [p.backend, p.part, fmt(p.perSecond), fmt(p.p50, 2), fmt(p.p99, 2)])));
  out.push("");
  const pgSteady = steadies.find((s) => s.backend === "postgres");
  const pgBursts = bursts.filter((b) => b.backend === "postgres");
  const pgBest = pgBursts.reduce((a, b) => (b.perSecond > a.perSecond ? b : a), pgBursts[0]!);
  const pgDrain = drains.find((d) => d.backend === "postgres");
  if (pgSteady && pgBest && pgDrain) {
    const p50 = summarize(pgSteady.latencies).p50;
    const rate = Math.max(pgBest.perSecond, pgDrain.perSecond);
    out.push(
      `Target (PostgreSQL): p50 < ${TARGET_P50_MS} ms at a modest rate — ${fmt(p50, 1)} ms, ${p50 < TARGET_P50_MS ? "met" : "missed"}; ` +
        `≥ ${fmt(TARGET_RATE)} deliveries/s — best burst ${fmt(pgBest.perSecond)}/s (${pgBest.label}), drain alone ${fmt(pgDrain.perSecond)}/s: ` +
        `${rate >= TARGET_RATE ? "met" : "missed"}.`,
    );
  }
  for (const file of profiles) {
    out.push("");
    out.push(`### CPU profile of the drain (${file.replace(`${ROOT}/`, "")})`);
    out.push("");
    out.push(summarizeProfile(file));
  }
  console.log(out.join("\n"));
}

runMain(main);
