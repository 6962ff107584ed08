/**
 * HTTP throughput and latency of the real server process, against a bare-Fastify ceiling.
 *
 * The server runs as a child process (`node --import tsx src/main.ts serve`) on the
 * embedded SQLite default (WAL) in a temp dir, with LOG_LEVEL=warn so per-request logging
 * is off. This process is the load generator (autocannon, 50 connections) and seeds the
 * server over HTTP first: one agent, 2,000 runs, and pools of `running` runs so that every
 * PATCH-to-completed request hits a different run. Measured, each after a short warm-up:
 *
 *   GET   /v1/runs/{id}   (rotating over the 2,000 seeded runs)
 *   GET   /v1/runs/       (first page, default limit 100)
 *   POST  /v1/runs        {agent_id}
 *   PATCH /v1/runs/{id}   {status: completed, stop_reason: end_turn}, one running run per request
 *
 * Then the ceiling: a bare Fastify 5 app (bench/http-ceiling.ts: no hooks, no auth, no
 * database) in its own child process, returning a fixed JSON body of the same bytes as the
 * single-run response, and again as the first-page response, measured the same way.
 * Reads are compared with their same-size ceiling, writes with the single-run ceiling.
 *
 * Latencies are every response's own (sub-millisecond), not autocannon's 1 ms histogram.
 * "server CPU" / "load-gen CPU" / "other CPU" are shares of one core used during the run
 * by the server child, this process, and everything else on the machine (from /proc);
 * "server CPU wait" is how much of the run the server's main thread was runnable but had
 * no CPU (/proc/<pid>/schedstat), "server disk wait" how often it was found blocked on disk
 * I/O (state D, sampled every ~2 ms) — with SQLite in the event loop, fsync stalls every
 * request in flight; "disk written/req" is the server's storage writes (write_bytes in
 * /proc/<pid>/io: WAL frames and checkpoints once they reach the block layer) per request. The
 * machine has to be otherwise idle for the figures to mean anything: the bench waits for
 * a quiet machine before each run and measures a run again when other processes used more
 * than 10% of a CPU during it.
 *
 *   npx tsx bench/http.ts [--quick]      (--quick: 2 s runs instead of 10 s)
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, stopProcess } from "./proc.js";
import { ADMIN_KEY, AUTH, CONNECTIONS, DURATION_S, fmt, JSON_AUTH, kb, load, measure, pct, QUICK, QUIET_WAIT_MS, retryWhenNoisy, waitQuiet, WARMUP_S, type LoadSpec, type Measured } from "./http-load.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SEED_RUNS = 2_000;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const WATCHDOG_MS = (QUICK ? 5 : 30) * 60_000;
const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 10;

// ---------------------------------------------------------------------------------------
// Child processes: started with their own event loop, always killed when this one exits.

interface Child {
  name: string;
  process: ChildProcess;
  /** The last few KB of its stdout and stderr, for error messages. */
  output(): string;
}

const children = new Set<Child>();
let tempDir: string | undefined;

function killAll(signal: NodeJS.Signals): void {
  for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill(signal);
}

function cleanupSync(): void {
  killAll("SIGKILL");
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  tempDir = undefined;
}

process.on("exit", cleanupSync);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\nhttp bench: ${signal}, stopping`);
    cleanupSync();
    process.exit(130);
  });
}
setTimeout(() => {
  console.error(`http bench: still running after ${WATCHDOG_MS / 60_000} min, giving up`);
  cleanupSync();
  process.exit(1);
}, WATCHDOG_MS).unref();

function startChild(name: string, args: string[], env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let tail = "";
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString("utf8")).slice(-8_192);
  };
  proc.stdout!.on("data", keep);
  proc.stderr!.on("data", keep);
  const child: Child = { name, process: proc, output: () => tail };
  children.add(child);
  proc.once("exit", () => children.delete(child));
  return child;
}

/** Polls `url` until it answers 200, the child dies, or the deadline passes. */
async function waitReady(child: Child, url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`${child.name} exited (${child.process.exitCode ?? child.process.signalCode}) before it was ready:\n${child.output()}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${child.name} not ready at ${url} within ${READY_TIMEOUT_MS} ms (${last}):\n${child.output()}`);
}

// ---------------------------------------------------------------------------------------
// Seeding over HTTP, with the same key and the same load generator.

async function api(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(base + path, {
    method,
    headers: body === undefined ? AUTH : JSON_AUTH,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, text: await response.text() };
}

/** Creates `count` runs of the agent; returns their ids. */
async function createRuns(base: string, pid: number, agentId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  const m = await load({
    base,
    pid,
    method: "POST",
    path: "/v1/runs",
    body: JSON.stringify({ agent_id: agentId }),
    amount: count,
    onBody: (status, body) => {
      if (status === 201) ids.push((JSON.parse(body) as { id: string }).id);
    },
  });
  if (ids.length !== count) throw new Error(`seeding: wanted ${count} runs, got ${ids.length} (${JSON.stringify(m.statuses)}, ${m.errors} errors)`);
  return ids;
}

/** Moves every run of `ids` to `running`, one request each. */
async function startRuns(base: string, pid: number, ids: readonly string[]): Promise<void> {
  let next = 0;
  const m = await load({
    base,
    pid,
    method: "PATCH",
    path: `/v1/runs/${ids[0]}`,
    body: JSON.stringify({ status: "running" }),
    nextPath: () => `/v1/runs/${ids[next++]}`,
    amount: ids.length,
  });
  if (m.statuses["200"] !== ids.length || next !== ids.length) {
    throw new Error(`seeding: moving ${ids.length} runs to running gave ${JSON.stringify(m.statuses)}, ${m.errors} errors, ${next} paths`);
  }
}

/**
 * A pool of `count` running runs; the returned function sends `count` PATCH-to-completed
 * requests, each on its own run (at `rate` per second when given).
 */
async function completeRuns(base: string, pid: number, agentId: string, count: number, rate?: number): Promise<() => Promise<Measured>> {
  const pool = await createRuns(base, pid, agentId, count);
  await startRuns(base, pid, pool);
  return async () => {
    let next = 0;
    const m = await load({
      base,
      pid,
      method: "PATCH",
      path: `/v1/runs/${pool[0]}`,
      body: JSON.stringify({ status: "completed", stop_reason: "end_turn" }),
      nextPath: () => {
        if (next >= pool.length) throw new Error("the pool of running runs ran out");
        return `/v1/runs/${pool[next++]}`;
      },
      amount: count,
      ...(rate === undefined ? {} : { rate }),
    });
    if (next !== count) throw new Error(`PATCH: ${next} of ${count} pool runs were used`);
    return m;
  };
}

// ---------------------------------------------------------------------------------------

interface Row {
  route: string;
  m: Measured;
  ceiling?: Measured;
  /** The same route at half its saturated rate. */
  half?: Measured;
}

async function benchServer(): Promise<{ rows: Row[]; runBody: string; pageBody: string }> {
  tempDir = mkdtempSync(join(tmpdir(), "runledger-http-bench-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = startChild("runledger server", ["src/main.ts", "serve", "--host", "127.0.0.1", "--port", String(port)], {
    DATABASE_URL: `sqlite:${join(tempDir, "bench.db")}`,
    RUNLEDGER_ADMIN_KEY: ADMIN_KEY,
    LOG_LEVEL: "warn",
  });
  const pid = server.process.pid!;
  await waitReady(server, `${base}/readyz`);
  console.error(`runledger server ready on ${base} (pid ${pid}, ${join(tempDir, "bench.db")})`);

  const agent = await api(base, "POST", "/v1/agents", { name: "http bench" });
  if (agent.status !== 201) throw new Error(`creating the agent: HTTP ${agent.status} ${agent.text}`);
  const agentId = (JSON.parse(agent.text) as { id: string }).id;
  const seeded = await createRuns(base, pid, agentId, SEED_RUNS);
  console.error(`seeded ${seeded.length} runs`);

  const one = await api(base, "GET", `/v1/runs/${seeded[0]}`);
  const page = await api(base, "GET", "/v1/runs/");
  const pageLength = (JSON.parse(page.text) as unknown[]).length;
  if (one.status !== 200 || page.status !== 200 || pageLength !== 100) {
    throw new Error(`sample reads: HTTP ${one.status} / ${page.status}, first page of ${pageLength} runs`);
  }

  const rows: Row[] = [];
  let i = 0;
  const getById: LoadSpec = { base, pid, method: "GET", path: `/v1/runs/${seeded[0]}`, nextPath: () => `/v1/runs/${seeded[i++ % seeded.length]}` };
  rows.push({ route: "GET /v1/runs/{id}", m: await measure("GET /v1/runs/{id}", getById) });
  rows.push({ route: "GET /v1/runs/ (first page, 100 runs)", m: await measure("GET /v1/runs/", { base, pid, method: "GET", path: "/v1/runs/" }) });
  const post = await measure("POST /v1/runs", { base, pid, method: "POST", path: "/v1/runs", body: JSON.stringify({ agent_id: agentId }) });
  rows.push({ route: "POST /v1/runs", m: post });

  // PATCH to completed: size the warm-up pool from the create rate, the measured pool from
  // the warm-up's rate, so the measured run lasts about DURATION_S.
  const warm = await (await completeRuns(base, pid, agentId, Math.max(CONNECTIONS * 10, Math.ceil(post.rps * WARMUP_S))))();
  const patchCount = Math.max(CONNECTIONS * 10, Math.ceil(warm.rps * DURATION_S));
  const patch = await retryWhenNoisy("PATCH /v1/runs/{id} → completed", async () => (await completeRuns(base, pid, agentId, patchCount))());
  rows.push({ route: "PATCH /v1/runs/{id} → completed", m: patch });

  // The same routes at half the rate each sustained: the latency a server sees below saturation.
  const half = (m: Measured) => Math.max(1, Math.round(m.rps / 2));
  rows[0]!.half = await measure("GET /v1/runs/{id} at half rate", { ...getById, rate: half(rows[0]!.m) });
  rows[1]!.half = await measure("GET /v1/runs/ at half rate", { base, pid, method: "GET", path: "/v1/runs/", rate: half(rows[1]!.m) });
  rows[2]!.half = await measure("POST /v1/runs at half rate", { base, pid, method: "POST", path: "/v1/runs", body: JSON.stringify({ agent_id: agentId }), rate: half(post) });
  rows[3]!.half = await retryWhenNoisy("PATCH → completed at half rate", async () =>
    (await completeRuns(base, pid, agentId, Math.ceil(half(patch) * DURATION_S), half(patch)))(),
  );

  await stopProcess(server.process, STOP_TIMEOUT_MS);
  return { rows, runBody: one.text, pageBody: page.text };
}

/** The bare Fastify app answering `body`; as fast as it can, or at `rate` on a fixed schedule. */
async function benchCeiling(label: string, body: string, rate?: number): Promise<Measured> {
  const file = join(tempDir!, `ceiling-${Buffer.byteLength(body)}.json`);
  writeFileSync(file, body);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const ceiling = startChild(label, ["bench/http-ceiling.ts"], { CEILING_BODY_FILE: file, PORT: String(port) });
  try {
    await waitReady(ceiling, `${base}/`);
    return await measure(label, { base, pid: ceiling.process.pid!, method: "GET", path: "/", ...(rate === undefined ? {} : { rate }) });
  } finally {
    await stopProcess(ceiling.process, STOP_TIMEOUT_MS);
  }
}

/** The commit measured, and whether src/ differed from it. */
function sourceVersion(): string {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = git("status", "--porcelain", "--", "src").length > 0;
    return `${git("rev-parse", "--short", "HEAD")}${dirty ? " with uncommitted changes in src/" : ""}`;
  } catch {
    return "unknown (no git)";
  }
}


async function main(): Promise<void> {
  const busy = await waitQuiet(QUIET_WAIT_MS);
  const version = sourceVersion();
  console.error(
    `http bench${QUICK ? " (quick)" : ""}: ${CONNECTIONS} connections, ${DURATION_S} s per route after ${WARMUP_S} s warm-up; ` +
      `${cpus().length} CPUs, Node ${process.version}; source ${version}; machine ${pct(busy)} busy before start`,
  );
  if (busy > 0.1) console.error("WARNING: something else is using the CPU; these figures will be low");

  const { rows, runBody, pageBody } = await benchServer();
  const runBytes = Buffer.byteLength(runBody);
  const pageBytes = Buffer.byteLength(pageBody);
  const small = await benchCeiling(`ceiling: bare Fastify, ${kb(runBytes)} body`, runBody);
  const large = await benchCeiling(`ceiling: bare Fastify, ${kb(pageBytes)} body`, pageBody);
  // Controls for the half-rate runs: the same schedule against the bare app shows what the
  // load generator and the loopback add to those latencies.
  const halfRate = (row: Row) => Math.round(row.half!.rps);
  const smallAtHalf = await benchCeiling(`ceiling: bare Fastify, ${kb(runBytes)} body, at ${fmt(halfRate(rows[0]!))} req/s`, runBody, halfRate(rows[0]!));
  const largeAtHalf = await benchCeiling(`ceiling: bare Fastify, ${kb(pageBytes)} body, at ${fmt(halfRate(rows[1]!))} req/s`, pageBody, halfRate(rows[1]!));
  rows[0]!.ceiling = small;
  rows[1]!.ceiling = large;
  rows[2]!.ceiling = small;
  rows[3]!.ceiling = small;

  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  const headers = [
    "route", "requests", "req/s", "p50 ms", "p99 ms", "non-2xx", "errors",
    "server CPU", "server CPU wait", "server disk wait", "disk written/req", "load-gen CPU", "other CPU", "vs ceiling",
  ];
  const cells = (route: string, m: Measured, ceiling?: Measured) => [
    route,
    fmt(m.requests),
    fmt(m.rps),
    fmt(m.p50, 2),
    fmt(m.p99, 2),
    fmt(m.non2xx),
    fmt(m.errors),
    pct(m.serverCpu),
    pct(m.serverRunq),
    pct(m.serverDisk),
    kb(m.diskBytesPerRequest),
    pct(m.loadCpu),
    pct(m.otherCpu),
    ceiling === undefined ? "—" : `${Math.round((m.rps / ceiling.rps) * 100)}%`,
  ];
  const table = [
    line(headers),
    line(headers.map(() => "---")),
    ...rows.map((r) => line(cells(r.route, r.m, r.ceiling))),
    line(cells(`ceiling: bare Fastify, ${kb(runBytes)} body`, small)),
    line(cells(`ceiling: bare Fastify, ${kb(pageBytes)} body`, large)),
  ].join("\n");

  const verdicts = rows.map((r) => {
    const ratio = r.m.rps / r.ceiling!.rps;
    const isRead = r.route.startsWith("GET");
    const ratioOk = ratio >= TARGET_RATIO;
    const p99Ok = r.m.p99 < TARGET_P99_MS;
    return (
      `- ${r.route}: ${Math.round(ratio * 100)}% of its ceiling` +
      (isRead ? ` (target ≥ ${TARGET_RATIO * 100}%: ${ratioOk ? "met" : "MISSED"})` : "") +
      `, p99 ${r.m.p99.toFixed(2)} ms (target < ${TARGET_P99_MS} ms: ${p99Ok ? "met" : "MISSED"})`
    );
  });

  const halfTable = [
    line(["route, at half its saturated rate", "requests", "req/s", "p50 ms", "p99 ms", "server CPU", "server disk wait", "load-gen CPU"]),
    line(Array.from({ length: 8 }, () => "---")),
    ...[...rows.map((r) => ({ route: r.route, h: r.half! })), { route: "control: bare Fastify, 715 B body", h: smallAtHalf }, { route: "control: bare Fastify, 69.9 KB body", h: largeAtHalf }].map(
      ({ route, h }) => line([route, fmt(h.requests), fmt(h.rps), fmt(h.p50, 2), fmt(h.p99, 2), pct(h.serverCpu), pct(h.serverDisk), pct(h.loadCpu)]),
    ),
  ].join("\n");

  console.log(table);
  console.log();
  console.log(halfTable);
  console.log();
  console.log(
    `Source ${version}; ${cpus().length} CPUs, Node ${process.version}. Single-run body ${fmt(runBytes)} bytes, ` +
      `first-page body ${fmt(pageBytes)} bytes. Machine ${pct(busy)} busy before start.`,
  );
  console.log(verdicts.join("\n"));
  console.log(rows.map((r) => `- ${r.route} at half rate: p99 ${r.half!.p99.toFixed(2)} ms (< ${TARGET_P99_MS} ms: ${r.half!.p99 < TARGET_P99_MS ? "yes" : "no"})`).join("\n"));
  const noisy = [...rows.map((r) => r.m), small, large].some((m) => m.otherCpu > 0.1);
  if (noisy) console.log("- WARNING: other processes used more than 10% of a CPU during at least one run (\"other CPU\"); those figures are low.");

  const bad = [...rows.flatMap((r) => [r.m, r.half!]), small, large, smallAtHalf, largeAtHalf].some((m) => m.non2xx > 0 || m.errors > 0);
  if (bad) {
    console.error("FAILED: some requests got a non-2xx answer or an error");
    process.exitCode = 1;
  }
}

main().then(
  () => {
    cleanupSync();
  },
  (error: unknown) => {
    console.error(error);
    cleanupSync();
    process.exit(1);
  },
);
