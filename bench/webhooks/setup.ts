/**
 * What the webhook scenarios share: a local receiver, a fresh database per measurement, the
 * dispatchers (in this process or in child processes), runs to complete, and the outcome of
 * a measurement (deliveries per second, latency from a completion's commit to its receipt).
 *
 * In process: `openLedger({url, webhookAllowlist: ["127.0.0.1"]})`, a WebhookDispatcher
 * (AddressGuard(["127.0.0.1"]), retries 200 ms / 500 ms / 1 s, timeout 5 s) and a local
 * node:http receiver answering 200 at once. As in a server process, the dispatcher shares
 * its ledger (SQLite connection, PostgreSQL pool of 10) with the writes.
 *
 * RUNLEDGER_BENCH_POSTGRES_URL overrides postgres://postgres@127.0.0.1:5432/test.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Actor } from "../../src/core/model.js";
import { openLedger, type Ledger } from "../../src/ledger.js";
import { WebhookRepo } from "../../src/store/repos/webhooks.js";
import { storeOf } from "../../src/store/store.js";
import { AddressGuard } from "../../src/webhooks/address-guard.js";
import { WebhookDispatcher } from "../../src/webhooks/dispatcher.js";
import { liveSecrets } from "../../src/webhooks/service.js";
import { CpuWindow, cpuSeconds, forkHelper, onExit, sleep, stopProcess } from "../proc.js";
import { hasFlag, runWorkers } from "../stats.js";

export const QUICK = hasFlag("--quick");
export const PG_URL = process.env.RUNLEDGER_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
/** Runs per burst and per drain. */
export const BURST = QUICK ? 300 : 3_000;
/** Concurrent callers completing runs in a burst. */
export const COMPLETERS = 16;
export const RETRIES = [200, 500, 1_000];
export const GUARD = new AddressGuard(["127.0.0.1"]);

export type Backend = "sqlite" | "postgres";
export const BACKENDS: readonly Backend[] = hasFlag("--sqlite-only") ? ["sqlite"] : hasFlag("--postgres-only") ? ["postgres"] : ["sqlite", "postgres"];

/** The value of `--name=value`, or `fallback`. */
export function flagValue(name: string, fallback: number): number {
  const raw = process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, not ${raw}`);
  return value;
}

// ---------------------------------------------------------------------------------------
// The dispatcher's claims (calls and rows), counted in this process.

export const claims = { calls: 0, rows: 0 };
const claimDue = WebhookRepo.prototype.claimDue;
WebhookRepo.prototype.claimDue = async function (this: WebhookRepo, ...args: Parameters<typeof claimDue>) {
  const rows = await claimDue.apply(this, args);
  claims.calls++;
  claims.rows += rows.length;
  return rows;
};

// ---------------------------------------------------------------------------------------
// CPU of this process and of PostgreSQL's, and of everything else.

/** CPU seconds used so far by this process and by all PostgreSQL server processes. */
export function cpuSnapshot(): { self: number; postgres: Map<number, number> } {
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

export function cpuShares(a: ReturnType<typeof cpuSnapshot>, b: ReturnType<typeof cpuSnapshot>, seconds: number): { self: number; postgres: number } {
  let postgres = 0;
  for (const [pid, end] of b.postgres) postgres += end - (a.postgres.get(pid) ?? 0);
  return { self: (b.self - a.self) / seconds, postgres: postgres / seconds };
}

/** Processes that are part of a measurement: PostgreSQL's, and the dispatcher children. */
const ours = (_pid: number, cmd: string) => cmd.startsWith("postgres") || cmd.includes("dispatcher-child");

/** CPU (share of one core) that processes unrelated to the measurement used since `window` opened. */
export function otherLoad(window: CpuWindow): number {
  return window.stop(ours).others.reduce((n, o) => n + o.share, 0);
}

// ---------------------------------------------------------------------------------------
// The receiver: records when each run's webhook arrived (first time), answers 200 at once.

export interface Receiver {
  url: string;
  receipts: Map<string, number>;
  requests: number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
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

export async function waitReceipts(receiver: Receiver, ids: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && ids.some((id) => !receiver.receipts.has(id))) await sleep(20);
}

// ---------------------------------------------------------------------------------------
// A fresh database per measurement.

export interface Db {
  url: string;
  ledgers: Ledger[];
  actor: Actor;
  agentId: string;
  dispose(): Promise<void>;
}

export async function freshDb(backend: Backend, ledgers = 1, poolSize?: number): Promise<Db> {
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

export function dispatcherFor(ledger: Ledger, concurrency: number, errors: unknown[]): WebhookDispatcher {
  return new WebhookDispatcher(storeOf(ledger), ledger.bus, {
    guard: GUARD,
    retryScheduleMs: RETRIES,
    timeoutMs: 5_000,
    concurrency,
    onError: (error) => errors.push(error),
  });
}

export type Dispatch = "in-process" | "2 ledgers in-process" | "2 processes";

/** Starts the dispatchers of a setup; returns a stop function. */
export async function startDispatch(db: Db, mode: Dispatch, concurrency: number, errors: unknown[]): Promise<() => Promise<void>> {
  if (mode === "2 processes") {
    const children = [0, 1].map(() => forkHelper("bench/webhooks/dispatcher-child.ts", [db.url, String(concurrency)]));
    await Promise.all(children.map((child) => new Promise<void>((resolve) => child.once("message", () => resolve()))));
    return async () => void (await Promise.all(children.map((child) => stopProcess(child, 10_000))));
  }
  const dispatchers = (mode === "in-process" ? [db.ledgers[0]!] : db.ledgers).map((ledger) => dispatcherFor(ledger, concurrency, errors));
  dispatchers.forEach((d) => d.start());
  return async () => void (await Promise.all(dispatchers.map((d) => d.stop())));
}

// ---------------------------------------------------------------------------------------
// Runs, and completing them.

/** `n` runs with callback_url pointing at the receiver, set running. */
export async function runningRuns(db: Db, receiverUrl: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  const ledger = db.ledgers[0]!;
  await runWorkers(n, 8, async () => {
    const run = await ledger.runs.create(db.actor, { agent_id: db.agentId, callback_url: receiverUrl });
    await ledger.runs.update(db.actor, run.id, { status: "running" });
    ids.push(run.id);
  });
  return ids;
}

/** Completes every run as fast as COMPLETERS concurrent callers can; returns when each committed. */
export async function completeAll(db: Db, ids: readonly string[]): Promise<Map<string, number>> {
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
export async function completePaced(db: Db, ids: readonly string[], rate: number): Promise<Map<string, number>> {
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

// ---------------------------------------------------------------------------------------
// The outcome of one measurement.

export interface Outcome {
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

export async function countAttempts(db: Db): Promise<number> {
  const row = await storeOf(db.ledgers[0]!).driver.get<{ n: number | string }>("SELECT count(*) AS n FROM webhook_attempts");
  return Number(row?.n ?? 0);
}

/** Latencies are receipt − `startedAt` (a completion's commit, or the start of a drain). */
export function outcome(
  label: string,
  backend: Backend,
  ids: readonly string[],
  startedAt: Map<string, number>,
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
    latencies.push(at - startedAt.get(id)!);
    lastReceipt = Math.max(lastReceipt, at);
  }
  const first = Math.min(...startedAt.values());
  const last = Math.max(...startedAt.values());
  return {
    label,
    backend,
    n: ids.length,
    delivered: latencies.length,
    perSecond: latencies.length / ((lastReceipt - first) / 1000),
    completionRate: completions ? ids.length / ((last - first) / 1000) : undefined,
    latencies,
    attempts,
    duplicates: receiver.requests - receiver.receipts.size,
    errors,
  };
}
