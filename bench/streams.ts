/**
 * Live streams: latency from a write to its delivery at SSE subscribers, memory per
 * subscriber, and cancel → producer AbortSignal latency.
 *
 * The server is the real thing (`node --import tsx src/main.ts serve`, LOG_LEVEL=warn) in
 * child processes. Subscribers are raw node:http sockets on `GET /v1/runs/{id}/events` of
 * one running run (bench/sse-subscribers.ts), in this process or split across 2 forked
 * worker processes. After a short warm-up, the bench sends WRITES message appends
 * (`POST /v1/runs/{id}/messages`, one assistant_message whose content is the send time in
 * epoch ms) paced at RATE per second, and every subscriber records, for each message
 * event, the time from just before the write request to the arrival of the socket chunk
 * that carried it. Latency = over all (write, subscriber) pairs; "delivered" = pairs that
 * arrived within 10 s after the last write.
 *
 * Scenarios:
 *   SQLite, one process: 100 and 1,000 subscribers in this process, and 1,000 split across
 *     2 worker processes (to show whether this process is the bottleneck); then 1,000 again
 *     for 1,200 writes (60 s), latency reported per 10 s of send time, to show whether
 *     delivery degrades as a stream ages.
 *   Memory, SQLite, a separate server started with --inspect: after a quiet period the
 *     bench forces two full GCs over the inspector protocol, reads V8's heap usage and 5
 *     VmRSS samples (/proc/<pid>/status) — at 0, 1,000 and 2,000 idle subscribers and after
 *     they left; then 2,000 held idle for another 60 s (growth per minute, server CPU).
 *     Per subscriber = Δ / subscribers.
 *   PostgreSQL, two processes A and B on one fresh schema: half the subscribers on each,
 *     writes through A only; reported separately for subscribers on A and on B.
 *   Cancel on PostgreSQL: track() over HTTP against A, `POST /v1/runs/{id}/cancel` on B,
 *     time from the cancel request to run.signal aborting (and, for reference, cancel on A).
 *
 * Every server process has the default PostgreSQL pool (10) and ping interval (20 s).
 *
 *   npx tsx bench/streams.ts [--quick] [--profile] [--only=sqlite|postgres]
 *
 * --quick: 200 / 50 subscribers, 40 writes. --profile: the SQLite latency server runs under
 * `node --cpu-prof` (bench/profiles/streams-sqlite-server.cpuprofile), summarized at the end.
 *
 * RUNLEDGER_BENCH_POSTGRES_URL overrides postgres://postgres@127.0.0.1:5432/test.
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RunledgerClient } from "../src/client/http-client.js";
import { RunCancelledError, track } from "../src/client/track.js";
import { openLedger } from "../src/ledger.js";
import { summarizeProfile } from "./cpuprofile-summary.js";
import { CpuWindow, forkHelper, onExit, ROOT, rssKiB, runMain, sleep, startServer, stopProcess, watchdog, type ServerProcess } from "./proc.js";
import { gcAndHeapUsage, inspectorUrl } from "./inspect-heap.js";
import { clock, type PoolReport, SubscriberPool, type WorkerCommand } from "./sse-subscribers.js";
import { fmt, hasFlag, markdownTable, summarize } from "./stats.js";
import { storeOf } from "../src/store/store.js";

const QUICK = hasFlag("--quick");
const PROFILE = hasFlag("--profile");
/** --only=sqlite or --only=postgres runs that backend's scenarios alone. */
const ONLY = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
const PG_URL = process.env.RUNLEDGER_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const BIG = QUICK ? 200 : 1_000;
const SMALL = QUICK ? 50 : 100;
const WRITES = QUICK ? 40 : 200;
const WARMUP_WRITES = 5;
/** The sustained run: SQLite, BIG subscribers, this many writes at RATE (60 s), latency per 10 s window. */
const SUSTAINED_WRITES = QUICK ? 200 : 1_200;
const WINDOW_MS = 10_000;
const RATE = 20;
const DRAIN_MS = 10_000;
const CANCEL_REPS = QUICK ? 10 : 50;
const CANCEL_SAME_REPS = QUICK ? 5 : 20;
const ATTACH_WAIT_MS = 300;
const TARGET_P99_MS = 100;
/** How long the memory server holds 2 × BIG idle subscribers to watch for growth. */
const IDLE_HOLD_MS = QUICK ? 10_000 : 60_000;
/** The memory server's CPU share (of one core) while it held them idle. */
let idleCpu = Number.NaN;
const TARGET_CANCEL_MS = 1_000;
const ADMIN_KEY = `rlk_benchstream1_${randomBytes(20).toString("hex")}`;
const AUTH = { authorization: `Bearer ${ADMIN_KEY}` };
const JSON_AUTH = { ...AUTH, "content-type": "application/json" };

watchdog((QUICK ? 10 : 40) * 60_000, "streams bench");

// ---------------------------------------------------------------------------------------
// HTTP helpers.

async function call<T>(baseUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, { method, headers: body === undefined ? AUTH : JSON_AUTH, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 300)}`);
  return (text === "" ? undefined : JSON.parse(text)) as T;
}

async function runningRun(baseUrl: string, agentId: string): Promise<string> {
  const run = await call<{ id: string }>(baseUrl, "POST", "/v1/runs", { agent_id: agentId });
  await call(baseUrl, "PATCH", `/v1/runs/${run.id}`, { status: "running" });
  return run.id;
}

// ---------------------------------------------------------------------------------------
// Subscriber pools: in this process, or in a forked worker over IPC. Same operations.

interface Pool {
  label: string;
  pid: number;
  open(url: string, count: number): Promise<number>;
  ready(timeoutMs: number): Promise<boolean>;
  phase(start: number): Promise<void>;
  received(): Promise<number>;
  report(): Promise<PoolReport>;
  close(): Promise<void>;
}

function localPool(label: string, maxSockets: number): Pool {
  const pool = new SubscriberPool(maxSockets);
  return {
    label,
    pid: process.pid,
    async open(url, count) {
      await pool.open(url, AUTH, count, 50);
      return pool.report().connected;
    },
    ready: (timeoutMs) => pool.waitReady(1, timeoutMs),
    async phase(start) {
      pool.startPhase(start);
    },
    async received() {
      return pool.received();
    },
    async report() {
      return pool.report();
    },
    async close() {
      pool.closeAll();
      await pool.waitClosed(5_000);
    },
  };
}

async function workerPool(label: string): Promise<Pool> {
  const child: ChildProcess = forkHelper("bench/sse-subscribers.ts", ["--worker"]);
  let nextId = 0;
  const pending = new Map<number, (value: unknown) => void>();
  child.on("message", (message: { id: number; value: unknown }) => {
    pending.get(message.id)?.(message.value);
    pending.delete(message.id);
  });
  const send = <T>(command: WorkerCommand): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (value) => {
        if (value !== null && typeof value === "object" && "error" in value) reject(new Error(String((value as { error: unknown }).error)));
        else resolve(value as T);
      });
      child.send({ id, command });
    });
  // Align the worker's clock with ours: the sample with the shortest round trip wins.
  await send({ op: "clock" });
  let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
  for (let i = 0; i < 50; i++) {
    const t0 = clock();
    const tw = await send<number>({ op: "clock" });
    const t1 = clock();
    if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: (t0 + t1) / 2 - tw };
  }
  let offsetSet = false;
  return {
    label,
    pid: child.pid!,
    async open(url, count) {
      const connected = await send<number>({ op: "open", url, headers: AUTH, count, concurrency: 50 });
      if (!offsetSet) await send({ op: "offset", offsetMs: best.offset });
      offsetSet = true;
      return connected;
    },
    ready: (timeoutMs) => send<boolean>({ op: "ready", minEvents: 1, timeoutMs }),
    phase: (start) => send({ op: "phase", start }),
    received: () => send<number>({ op: "received" }),
    report: () => send<PoolReport>({ op: "report" }),
    async close() {
      await send({ op: "close" }).catch(() => {});
      await stopProcess(child, 3_000);
    },
  };
}

// ---------------------------------------------------------------------------------------
// One latency measurement: subscribers already attached and caught up.

interface GroupResult {
  label: string;
  subscribers: number;
  expected: number;
  delivered: number;
  latencies: number[];
  sent: number[];
  outOfOrder: number;
}

interface Measurement {
  groups: GroupResult[];
  writeLatencies: number[];
  writeErrors: number;
  /** Reference-clock time just before the first measured write. */
  start: number;
  cpu: { label: string; share: number }[];
  machine: number;
  /** CPU share (of one core) of processes that are not part of this measurement, and the top ones. */
  others: number;
  otherTop: string[];
}

/** Sends `count` writes to `writerUrl` at RATE per second (open loop); returns send→response latencies. */
async function paceWrites(writerUrl: string, runId: string, count: number): Promise<{ latencies: number[]; errors: number }> {
  const interval = 1000 / RATE;
  const start = performance.now();
  const latencies: number[] = [];
  let errors = 0;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const sent = clock();
    inFlight.push(
      fetch(`${writerUrl}/v1/runs/${runId}/messages`, {
        method: "POST",
        headers: JSON_AUTH,
        body: JSON.stringify({ messages: [{ message_type: "assistant_message", content: String(sent) }] }),
      }).then(
        async (response) => {
          await response.arrayBuffer();
          if (response.status !== 201) errors++;
          latencies.push(clock() - sent);
        },
        () => void errors++,
      ),
    );
  }
  await Promise.all(inFlight);
  return { latencies, errors };
}

async function measure(
  groups: { label: string; pools: Pool[]; subscribers: number }[],
  writerUrl: string,
  runId: string,
  servers: { label: string; pid: number }[],
  writeCount = WRITES,
): Promise<Measurement> {
  const pools = groups.flatMap((g) => g.pools);
  const total = groups.reduce((n, g) => n + g.subscribers, 0);
  const receivedAll = async () => (await Promise.all(pools.map((p) => p.received()))).reduce((a, b) => a + b, 0);
  const drain = async (expected: number, deadline: number) => {
    while (Date.now() < deadline && (await receivedAll()) < expected) await sleep(100);
  };

  // Warm-up: a few writes, all delivered (or 10 s), not counted.
  const warmStart = clock();
  await Promise.all(pools.map((p) => p.phase(warmStart)));
  await paceWrites(writerUrl, runId, WARMUP_WRITES);
  await drain(WARMUP_WRITES * total, Date.now() + DRAIN_MS);
  await sleep(500);

  const benchPids = [...new Set(pools.map((p) => p.pid))];
  const cpu = new CpuWindow([...servers.map((s) => s.pid), ...benchPids]);
  const start = clock();
  await Promise.all(pools.map((p) => p.phase(start)));
  const writes = await paceWrites(writerUrl, runId, writeCount);
  await drain(writeCount * total, Date.now() + DRAIN_MS);
  const usage = cpu.stop();

  const results: GroupResult[] = [];
  for (const group of groups) {
    const reports = await Promise.all(group.pools.map((p) => p.report()));
    const connected = reports.reduce((n, r) => n + r.connected, 0);
    const latencies = reports.flatMap((r) => r.latencies);
    results.push({
      label: group.label,
      subscribers: connected,
      expected: writeCount * connected,
      delivered: latencies.length,
      latencies,
      sent: reports.flatMap((r) => r.sent),
      outOfOrder: reports.reduce((n, r) => n + r.outOfOrder, 0),
    });
  }
  const cpuRows = [
    ...servers.map((s) => ({ label: s.label, share: usage.perPid.get(s.pid)! })),
    ...benchPids.map((pid) => ({
      label: pid === process.pid ? "bench process" : `subscriber worker ${pools.filter((p) => p.pid === pid).map((p) => p.label).join("+")}`,
      share: usage.perPid.get(pid)!,
    })),
  ];
  const postgresShare = usage.others.filter((o) => o.name.startsWith("postgres")).reduce((n, o) => n + o.share, 0);
  if (postgresShare > 0) cpuRows.push({ label: "PostgreSQL processes", share: postgresShare });
  const others = usage.others.filter((o) => !o.name.startsWith("postgres"));
  return {
    groups: results,
    start,
    writeLatencies: writes.latencies,
    writeErrors: writes.errors,
    cpu: cpuRows,
    machine: usage.machine,
    others: others.reduce((n, o) => n + o.share, 0),
    otherTop: others.slice(0, 3).map((o) => `${o.name.replace(/^\S*node .*?(\S+\.ts)\b/, "node … $1").slice(0, 100)} ${fmt(o.share * 100)}%`),
  };
}

async function attach(pools: { pool: Pool; count: number }[], url: string): Promise<number> {
  const t0 = performance.now();
  const connected = await Promise.all(pools.map(({ pool, count }) => pool.open(url, count)));
  const ok = await Promise.all(pools.map(({ pool }) => pool.ready(30_000)));
  if (ok.includes(false)) console.error("warning: some subscribers never received the replay");
  const total = connected.reduce((a, b) => a + b, 0);
  console.error(`  attached ${total} subscribers in ${fmt(performance.now() - t0)} ms`);
  return total;
}

// ---------------------------------------------------------------------------------------
// Report rows.

interface LatencyRow {
  backend: string;
  subscribers: string;
  where: string;
  group: GroupResult;
  measurement: Measurement;
}

const latencyRows: LatencyRow[] = [];
const cpuRows: string[][] = [];

function record(backend: string, subscribers: string, where: string, m: Measurement): void {
  for (const group of m.groups) latencyRows.push({ backend, subscribers, where: `${where}${m.groups.length > 1 ? `, ${group.label}` : ""}`, group, measurement: m });
  const w = m.writeLatencies.length > 0 ? summarize(m.writeLatencies) : undefined;
  cpuRows.push([
    backend,
    subscribers,
    where,
    m.cpu.map((c) => `${c.label} ${fmt(c.share * 100)}%`).join(", "),
    `${fmt(m.machine * 100)}%`,
    `${fmt(m.others * 100)}%`,
    w ? `${fmt(w.p50, 1)} / ${fmt(w.p99, 1)}` : "–",
    String(m.writeErrors),
  ]);
  if (m.otherTop.length > 0) console.error(`  other load: ${m.otherTop.join("; ")}`);
  for (const group of m.groups) {
    const s = group.latencies.length > 0 ? summarize(group.latencies) : undefined;
    console.error(
      `  ${backend} ${subscribers} ${where} ${group.label}: delivered ${group.delivered}/${group.expected}` +
        (s ? `, p50 ${fmt(s.p50, 1)} p99 ${fmt(s.p99, 1)} max ${fmt(s.max, 1)} ms` : ""),
    );
  }
}

// ---------------------------------------------------------------------------------------
// SQLite: one process.

interface MemoryState {
  state: string;
  subscribers: number;
  rssKiB: number;
  rssSamples: number[];
  heapUsed: number;
  /** When the heap was read, ms after the last subscribers attached. */
  at: number;
}

async function rssSamples(pid: number, n = 5, gapMs = 500): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    samples.push(rssKiB(pid));
    if (i < n - 1) await sleep(gapMs);
  }
  return samples;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Warms a server up (JIT, statement cache, SSE path) with a few subscribers and writes on a throwaway run. */
async function warmUp(baseUrl: string, agentId: string): Promise<void> {
  const warmRun = await runningRun(baseUrl, agentId);
  const warmPool = localPool("warm-up", 100);
  await attach([{ pool: warmPool, count: 50 }], `${baseUrl}/v1/runs/${warmRun}/events`);
  await paceWrites(baseUrl, warmRun, 20);
  await call(baseUrl, "PATCH", `/v1/runs/${warmRun}`, { status: "completed" });
  await warmPool.close();
}

/**
 * Memory on its own server (run with --inspect so the bench can force full GCs): after a
 * quiet period, two forced GCs, then V8's heap usage and 5 RSS samples — at 0, BIG and
 * 2 × BIG idle subscribers, and after they all left.
 */
async function sqliteMemory(): Promise<MemoryState[]> {
  const dir = mkdtempSync(join(tmpdir(), "runledger-bench-streams-"));
  onExit(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startServer({ DATABASE_URL: `sqlite:${join(dir, "b.db")}`, RUNLEDGER_ADMIN_KEY: ADMIN_KEY }, ["--inspect=127.0.0.1:0"]);
  const quiet = QUICK ? 2_000 : 5_000;
  const states: MemoryState[] = [];
  let attachedAt = 0;
  const sample = async (label: string, subscribers: number) => {
    await sleep(quiet);
    const at = performance.now() - attachedAt;
    const state = label.replace("{s}", fmt(at / 1000));
    const url = inspectorUrl(server.head());
    const heap = url === undefined ? undefined : await gcAndHeapUsage(url);
    await sleep(1_000);
    const samples = await rssSamples(server.pid);
    states.push({ state, subscribers, rssKiB: median(samples), rssSamples: samples, heapUsed: heap?.usedSize ?? Number.NaN, at });
    console.error(`  ${state}: RSS ${fmt(median(samples) / 1024, 1)} MiB, heap used ${fmt((heap?.usedSize ?? 0) / 2 ** 20, 1)} MiB`);
  };
  try {
    const agent = await call<{ id: string }>(server.baseUrl, "POST", "/v1/agents", { name: "streams bench" });
    console.error("sqlite memory: warm-up");
    await warmUp(server.baseUrl, agent.id);
    await sample("0 subscribers (after warm-up)", 0);
    const runs = [await runningRun(server.baseUrl, agent.id), await runningRun(server.baseUrl, agent.id)];
    const pools = [localPool("m1", BIG + 16), localPool("m2", BIG + 16)];
    await attach([{ pool: pools[0]!, count: BIG }], `${server.baseUrl}/v1/runs/${runs[0]}/events`);
    await sample(`${fmt(BIG)} subscribers attached, idle`, BIG);
    await attach([{ pool: pools[1]!, count: BIG }], `${server.baseUrl}/v1/runs/${runs[1]}/events`);
    attachedAt = performance.now();
    await sample(`${fmt(2 * BIG)} subscribers attached, idle ({s} s after the last attached)`, 2 * BIG);
    // Stay idle a while longer: each follower re-reads every 2 s even when nothing happens.
    const cpu = new CpuWindow([server.pid]);
    await sleep(IDLE_HOLD_MS);
    idleCpu = cpu.stop().perPid.get(server.pid)!;
    await sample(`${fmt(2 * BIG)} subscribers, still idle ({s} s after the last attached)`, 2 * BIG);
    for (const run of runs) await call(server.baseUrl, "PATCH", `/v1/runs/${run}`, { status: "completed" });
    await Promise.all(pools.map((p) => p.close()));
    await sample("after they all disconnected", 0);
    return states;
  } finally {
    await stopProcess(server.child);
    reportOutput("memory server", server);
  }
}

/** Says on stderr what a server printed besides inspector notices (warnings, errors). */
function reportOutput(label: string, server: ServerProcess): void {
  const printed = server.output().split("\n").filter((line) => line.trim() !== "" && !/Debugger (listening|attached|ending)|inspector|For help, see/.test(line));
  if (printed.length > 0) console.error(`  ${label} printed ${printed.length}+ lines; last ones:\n    ${printed.slice(-5).map((l) => l.slice(0, 400)).join("\n    ")}`);
}

/** The sustained SQLite measurement, reported per window. */
let sustained: Measurement | undefined;

/** With --profile: the SQLite latency server runs under `node --cpu-prof`; the profile lands here. */
const PROFILE_DIR = join(ROOT, "bench", "profiles");

async function sqlite(): Promise<string | undefined> {
  const dir = mkdtempSync(join(tmpdir(), "runledger-bench-streams-"));
  onExit(() => rmSync(dir, { recursive: true, force: true }));
  // One profile per thread (tsx's loader runs in a worker): the main thread's is tid 0.
  const profileDir = mkdtempSync(join(tmpdir(), "runledger-bench-prof-"));
  onExit(() => rmSync(profileDir, { recursive: true, force: true }));
  const profileArgs = PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  const server = await startServer({ DATABASE_URL: `sqlite:${join(dir, "b.db")}`, RUNLEDGER_ADMIN_KEY: ADMIN_KEY }, profileArgs);
  const servers = [{ label: "server", pid: server.pid }];
  try {
    const agent = await call<{ id: string }>(server.baseUrl, "POST", "/v1/agents", { name: "streams bench" });
    console.error("sqlite: warm-up");
    await warmUp(server.baseUrl, agent.id);

    for (const count of [SMALL, BIG]) {
      console.error(`sqlite: ${count} subscribers in this process`);
      const run = await runningRun(server.baseUrl, agent.id);
      const pool = localPool("in-process", count + 16);
      await attach([{ pool, count }], `${server.baseUrl}/v1/runs/${run}/events`);
      record("SQLite", fmt(count), "1 server, subscribers in bench process", await measure([{ label: "all", pools: [pool], subscribers: count }], server.baseUrl, run, servers));
      await call(server.baseUrl, "PATCH", `/v1/runs/${run}`, { status: "completed" });
      await pool.close();
    }

    console.error(`sqlite: ${BIG} subscribers in this process, sustained: ${SUSTAINED_WRITES} writes`);
    {
      const run = await runningRun(server.baseUrl, agent.id);
      const pool = localPool("in-process", BIG + 16);
      await attach([{ pool, count: BIG }], `${server.baseUrl}/v1/runs/${run}/events`);
      sustained = await measure([{ label: "all", pools: [pool], subscribers: BIG }], server.baseUrl, run, servers, SUSTAINED_WRITES);
      record("SQLite", fmt(BIG), `1 server, subscribers in bench process, sustained ${fmt(SUSTAINED_WRITES)} writes`, sustained);
      await call(server.baseUrl, "PATCH", `/v1/runs/${run}`, { status: "completed" });
      await pool.close();
    }

    console.error(`sqlite: ${BIG} subscribers split across 2 worker processes`);
    const splitRun = await runningRun(server.baseUrl, agent.id);
    const w1 = await workerPool("1");
    const w2 = await workerPool("2");
    const url = `${server.baseUrl}/v1/runs/${splitRun}/events`;
    await attach([{ pool: w1, count: BIG / 2 }, { pool: w2, count: BIG / 2 }], url);
    record("SQLite", fmt(BIG), "1 server, subscribers in 2 worker processes", await measure([{ label: "all", pools: [w1, w2], subscribers: BIG }], server.baseUrl, splitRun, servers));
    await call(server.baseUrl, "PATCH", `/v1/runs/${splitRun}`, { status: "completed" });
    await Promise.all([w1.close(), w2.close()]);
  } finally {
    await stopProcess(server.child, 15_000);
    reportOutput("SQLite server", server);
  }
  if (!PROFILE) return undefined;
  const main = readdirSync(profileDir).find((f) => f.includes(`.${server.pid}.0.`));
  if (main === undefined) return undefined;
  mkdirSync(PROFILE_DIR, { recursive: true });
  const target = join(PROFILE_DIR, "streams-sqlite-server.cpuprofile");
  copyFileSync(join(profileDir, main), target);
  return target;
}

// ---------------------------------------------------------------------------------------
// PostgreSQL: two processes on one schema.

interface CancelResult {
  label: string;
  latencies: number[];
  missed: number;
}

async function postgres(): Promise<CancelResult[]> {
  const schema = `bench_${randomBytes(5).toString("hex")}`;
  const url = `${PG_URL}?schema=${schema}`;
  const env = { DATABASE_URL: url, RUNLEDGER_ADMIN_KEY: ADMIN_KEY };
  let a: ServerProcess | undefined;
  let b: ServerProcess | undefined;
  try {
    a = await startServer(env);
    b = await startServer(env);
    const servers = [
      { label: "server A", pid: a.pid },
      { label: "server B", pid: b.pid },
    ];
    const agent = await call<{ id: string }>(a.baseUrl, "POST", "/v1/agents", { name: "streams bench" });

    console.error("postgres: warm-up");
    const warmRun = await runningRun(a.baseUrl, agent.id);
    const wa = localPool("A", 64);
    const wb = localPool("B", 64);
    await attachTo([
      { pool: wa, url: `${a.baseUrl}/v1/runs/${warmRun}/events`, count: 25 },
      { pool: wb, url: `${b.baseUrl}/v1/runs/${warmRun}/events`, count: 25 },
    ]);
    await paceWrites(a.baseUrl, warmRun, 20);
    await call(a.baseUrl, "PATCH", `/v1/runs/${warmRun}`, { status: "completed" });
    await Promise.all([wa.close(), wb.close()]);

    for (const [count, mode] of [
      [SMALL, "in-process"],
      [BIG, "in-process"],
      [BIG, "workers"],
    ] as const) {
      console.error(`postgres: ${count} subscribers (${count / 2} on A, ${count / 2} on B), ${mode}`);
      const run = await runningRun(a.baseUrl, agent.id);
      const onA = mode === "in-process" ? localPool("A", count) : await workerPool("A");
      const onB = mode === "in-process" ? localPool("B", count) : await workerPool("B");
      await attachTo([
        { pool: onA, url: `${a.baseUrl}/v1/runs/${run}/events`, count: count / 2 },
        { pool: onB, url: `${b.baseUrl}/v1/runs/${run}/events`, count: count / 2 },
      ]);
      const m = await measure(
        [
          { label: "subscribers on A", pools: [onA], subscribers: count / 2 },
          { label: "subscribers on B", pools: [onB], subscribers: count / 2 },
        ],
        a.baseUrl,
        run,
        servers,
      );
      record(
        "PostgreSQL",
        `${fmt(count)} (${fmt(count / 2)} + ${fmt(count / 2)})`,
        `2 servers, writes via A, subscribers in ${mode === "in-process" ? "bench process" : "2 worker processes (one per server)"}`,
        m,
      );
      await call(a.baseUrl, "PATCH", `/v1/runs/${run}`, { status: "completed" });
      await Promise.all([onA.close(), onB.close()]);
    }

    console.error("postgres: cancel → AbortSignal");
    await sleep(2_000);
    const cross = await cancelLatency(a.baseUrl, b.baseUrl, agent.id, CANCEL_REPS, "producer on A, cancel on B");
    const same = await cancelLatency(a.baseUrl, a.baseUrl, agent.id, CANCEL_SAME_REPS, "producer on A, cancel on A (reference)");
    return [cross, same];
  } finally {
    await Promise.all([a && stopProcess(a.child), b && stopProcess(b.child)]);
    if (a) reportOutput("server A", a);
    if (b) reportOutput("server B", b);
    const ledger = await openLedger({ url, listen: false, migrate: false });
    await storeOf(ledger).driver.run(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await ledger.close();
  }
}

async function attachTo(pools: { pool: Pool; url: string; count: number }[]): Promise<number> {
  let total = 0;
  for (const { pool, url, count } of pools) if (count > 0) total += await attach([{ pool, count }], url);
  return total;
}

async function cancelLatency(producerUrl: string, cancelUrl: string, agentId: string, reps: number, label: string): Promise<CancelResult> {
  const client = new RunledgerClient({ baseUrl: producerUrl, apiKey: ADMIN_KEY });
  const latencies: number[] = [];
  let missed = 0;
  for (let i = 0; i < reps; i++) {
    const outcome = await track(client, { agent_id: agentId }, async (run) => {
      const abortedAt = new Promise<number>((resolve) => run.signal.addEventListener("abort", () => resolve(performance.now()), { once: true }));
      // Lets track()'s status watch (an SSE request to the producer's server) attach first.
      await sleep(ATTACH_WAIT_MS);
      const t0 = performance.now();
      await call(cancelUrl, "POST", `/v1/runs/${run.id}/cancel`, {});
      const at = await Promise.race([abortedAt, sleep(5_000).then(() => undefined)]);
      if (at === undefined) missed++;
      else latencies.push(at - t0);
      return "stopped";
    }).then(
      () => "returned",
      (error: unknown) => (error instanceof RunCancelledError ? "cancelled" : String(error)),
    );
    if (outcome !== "cancelled") console.error(`  cancel rep ${i}: track() ended with ${outcome}`);
  }
  const s = latencies.length > 0 ? summarize(latencies) : undefined;
  console.error(`  ${label}: ${latencies.length}/${reps}` + (s ? ` p50 ${fmt(s.p50, 1)} p99 ${fmt(s.p99, 1)} max ${fmt(s.max, 1)} ms` : ""));
  return { label, latencies, missed };
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  console.error(`streams bench${QUICK ? " (quick)" : ""}: ${WRITES} writes at ${RATE}/s; ${BIG} / ${SMALL} subscribers`);
  const profile = ONLY === "postgres" ? undefined : await sqlite();
  const memory = ONLY === "postgres" ? [] : await sqliteMemory();
  let cancels: CancelResult[] = [];
  try {
    if (ONLY !== "sqlite") cancels = await postgres();
  } catch (error) {
    console.error(`PostgreSQL part failed: ${String(error)}`);
  }

  const out: string[] = [];
  out.push(`### Write → SSE delivery latency (${WRITES} message appends at ${RATE}/s, one run)`);
  out.push("");
  out.push(
    markdownTable(
      ["backend", "subscribers", "setup", "delivered", "p50 ms", "p99 ms", "max ms", `p99 < ${TARGET_P99_MS} ms`],
      latencyRows.map((r) => {
        const s = r.group.latencies.length > 0 ? summarize(r.group.latencies) : undefined;
        return [
          r.backend,
          r.subscribers,
          r.where,
          `${fmt((100 * r.group.delivered) / Math.max(1, r.group.expected), 2)}% (${fmt(r.group.delivered)}/${fmt(r.group.expected)})` +
            (r.group.outOfOrder > 0 ? `, ${fmt(r.group.outOfOrder)} out of order` : ""),
          s ? fmt(s.p50, 1) : "–",
          s ? fmt(s.p99, 1) : "–",
          s ? fmt(s.max, 1) : "–",
          s && s.p99 < TARGET_P99_MS && r.group.delivered === r.group.expected ? "yes" : "no",
        ];
      }),
    ),
  );
  out.push("");
  if (sustained !== undefined) {
    const group = sustained.groups[0]!;
    const windows = new Map<number, number[]>();
    for (let i = 0; i < group.latencies.length; i++) {
      const w = Math.floor((group.sent[i]! - sustained.start) / WINDOW_MS);
      let list = windows.get(w);
      if (list === undefined) windows.set(w, (list = []));
      list.push(group.latencies[i]!);
    }
    out.push(`### Sustained: SQLite, ${fmt(BIG)} subscribers, ${fmt(SUSTAINED_WRITES)} writes at ${RATE}/s, by send time`);
    out.push("");
    out.push(
      markdownTable(
        ["writes sent during", "pairs", "p50 ms", "p99 ms", "max ms"],
        [...windows.entries()]
          .sort((a, b) => a[0] - b[0])
          .map(([w, list]) => {
            const s = summarize(list);
            return [`${(w * WINDOW_MS) / 1000}–${((w + 1) * WINDOW_MS) / 1000} s`, fmt(list.length), fmt(s.p50, 1), fmt(s.p99, 1), fmt(s.max, 1)];
          }),
      ),
    );
    out.push("");
  }
  out.push("### CPU during the write phase (share of one core) and write request latency");
  out.push("");
  out.push(markdownTable(["backend", "subscribers", "setup", "CPU by process", "machine (2 cores)", "unrelated processes", "write p50 / p99 ms", "write errors"], cpuRows));
  out.push("");
  if (memory.length > 0) out.push("### Server memory per idle subscriber (SQLite, one run's /events; forced full GC, then VmRSS median of 5 samples 0.5 s apart)");
  out.push("");
  const base = memory[0];
  const mib = (bytes: number) => fmt(bytes / 2 ** 20, 1);
  if (base !== undefined) out.push(
    markdownTable(
      ["state", "RSS MiB", "RSS samples MiB", "V8 heap used MiB", "RSS Δ per subscriber vs 0", "heap Δ per subscriber vs 0"],
      memory.map((m) => [
        m.state,
        mib(m.rssKiB * 1024),
        m.rssSamples.map((k) => mib(k * 1024)).join(", "),
        mib(m.heapUsed),
        m.subscribers > 0 ? `${fmt((m.rssKiB - base.rssKiB) / m.subscribers, 1)} KiB` : "",
        m.subscribers > 0 ? `${fmt((m.heapUsed - base.heapUsed) / 1024 / m.subscribers, 1)} KiB` : "",
      ]),
    ),
  );
  if (memory.length >= 4) {
    const [, , two, held] = memory;
    const minutes = (held!.at - two!.at) / 60_000;
    out.push("");
    out.push(
      `Idle growth with ${fmt(held!.subscribers)} idle subscribers over ${fmt(minutes * 60)} s: V8 heap ` +
        `${fmt((held!.heapUsed - two!.heapUsed) / 2 ** 20, 2)} MiB (${fmt((held!.heapUsed - two!.heapUsed) / held!.subscribers / minutes)} B per subscriber per minute), ` +
        `RSS ${fmt((held!.rssKiB - two!.rssKiB) / 1024, 1)} MiB; server CPU while idle ${fmt(idleCpu * 100)}% of a core.`,
    );
  }
  if (memory.length >= 3) {
    const [, one, two] = memory;
    const n = two!.subscribers - one!.subscribers;
    out.push("");
    out.push(
      `Marginal cost of the second ${fmt(n)}: RSS ${fmt((two!.rssKiB - one!.rssKiB) / n, 1)} KiB, V8 heap ${fmt((two!.heapUsed - one!.heapUsed) / 1024 / n, 1)} KiB per subscriber.`,
    );
  }
  out.push("");
  if (cancels.length > 0) {
    out.push(`### Cancel → producer AbortSignal (PostgreSQL, track() over HTTP on A)`);
    out.push("");
    out.push(
      markdownTable(
        ["path", "reps", "aborted", "p50 ms", "p99 ms", "max ms", `p99 < ${TARGET_CANCEL_MS} ms`],
        cancels.map((c) => {
          const s = c.latencies.length > 0 ? summarize(c.latencies) : undefined;
          return [
            c.label,
            String(c.latencies.length + c.missed),
            String(c.latencies.length),
            s ? fmt(s.p50, 1) : "–",
            s ? fmt(s.p99, 1) : "–",
            s ? fmt(s.max, 1) : "–",
            s && s.p99 < TARGET_CANCEL_MS && c.missed === 0 ? "yes" : "no",
          ];
        }),
      ),
    );
  }
  if (profile !== undefined) {
    out.push("");
    out.push(`### CPU profile of the SQLite server over all its latency runs (${profile.replace(`${ROOT}/`, "")})`);
    out.push("");
    out.push(summarizeProfile(profile, ["followRun", "list", "send", "write", "publish", "wake", "transaction", "append", "get", "openSse"]));
  }
  console.log(out.join("\n"));
}

runMain(main);
