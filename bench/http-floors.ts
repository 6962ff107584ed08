/**
 * runledger's HTTP read and write routes against floors that do the same work
 * (bench/floors/): a minimal app on the same SQLite file that checks the key in an
 * in-memory map, runs the same statements with one prepared better-sqlite3 statement each,
 * writes the same rows with the same durability (WAL, synchronous=NORMAL, grouped commits)
 * and sends the same bytes.
 *
 * The runledger server (`src/main.ts serve`, SQLite in a temp dir, LOG_LEVEL=warn, its
 * background workers on) is seeded over HTTP with one agent and 2,000 runs; the floor
 * process opens the same file. Before measuring, the bench checks that both send identical
 * bytes (each GET, and each write's answer against the other process's GET of the row it
 * wrote) and write the same rows (runs, run_events, run_metrics, audit_log,
 * webhook_deliveries, steps, with ids and instants masked). Then, per route, autocannon at
 * 50 connections alternates runledger and the floor ROUNDS times (ABAB…), after one warm-up
 * each; figures are the median round, the ratio the median of the rounds' ratios. Writes
 * are then sent at half runledger's saturated rate on a fixed schedule
 * (bench/steady-load.ts) to both, for the p99 below saturation.
 *
 *   npx tsx bench/http-floors.ts [--quick] [--rounds=3] [--floor=node|fastify] [--routes=get,list,post,patch]
 *
 * --quick: 2 s runs, one round (a smoke test). The machine is shared: the bench does not
 * wait for a quiet one, so read the ratios; "other CPU" says how busy the rest was.
 */
import Database from "better-sqlite3";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { ADMIN_KEY, AUTH, DURATION_S, JSON_AUTH, kb, load, pct, QUICK, WARMUP_S, type LoadSpec, type Measured } from "./http-load.js";
import { cpuSeconds, forkHelper, freePort, onExit, ROOT, runMain, sleep, startServer, stopProcess, watchdog } from "./proc.js";
import { fmt, markdownTable } from "./stats.js";

const arg = (name: string) => new RegExp(`^--${name}=(.+)$`).exec(process.argv.slice(2).find((a) => a.startsWith(`--${name}=`)) ?? "")?.[1];
const ROUNDS = Number(arg("rounds") ?? (QUICK ? 1 : 3));
const FLOOR_HTTP = arg("floor") ?? "node";
const ROUTES = (arg("routes") ?? "get,list,post,patch").split(",");
const SEED_RUNS = 2_000;
const TARGETS: Record<string, number> = { get: 0.7, list: 0.6, post: 0.7, patch: 0.7 };
const TARGET_P99_MS = 10;

interface Subject {
  name: string;
  base: string;
  pid: number;
}

async function api(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(base + path, {
    method,
    headers: body === undefined ? AUTH : JSON_AUTH,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, text: await response.text() };
}

/** `count` new runs of the agent through runledger, moved to `running` when asked. */
async function makeRuns(server: Subject, agentId: string, count: number, running: boolean): Promise<string[]> {
  const ids: string[] = [];
  await load({
    base: server.base, method: "POST", path: "/v1/runs", body: JSON.stringify({ agent_id: agentId }), amount: count,
    onBody: (status, body) => status === 201 && ids.push((JSON.parse(body) as { id: string }).id),
  });
  if (ids.length !== count) throw new Error(`seeding: wanted ${count} runs, got ${ids.length}`);
  if (running) {
    let next = 0;
    const m = await load({ base: server.base, method: "PATCH", path: `/v1/runs/${ids[0]}`, body: JSON.stringify({ status: "running" }), nextPath: () => `/v1/runs/${ids[next++]}`, amount: count });
    if (m.statuses["200"] !== count) throw new Error(`seeding: moving runs to running gave ${JSON.stringify(m.statuses)}`);
  }
  return ids;
}

// ---------------------------------------------------------------------------------------
// Same bytes, same rows.

const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g;

/** The rows that belong to a run, ids and instants masked, so two runs' rows can be compared. */
function rowsOf(db: Database.Database, runId: string): string {
  const tables: [string, string][] = [
    ["runs", "id"], ["run_events", "run_id"], ["run_metrics", "id"], ["audit_log", "run_id"], ["webhook_deliveries", "run_id"], ["steps", "run_id"],
  ];
  const out: Record<string, unknown[]> = {};
  for (const [table, column] of tables) {
    const rows = db.prepare(`SELECT * FROM ${table} WHERE ${column} = ? ORDER BY rowid`).all(runId) as Record<string, unknown>[];
    out[table] = rows.map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([k, v]) => {
          if (table !== "runs" && table !== "run_metrics" && k === "id") return [k, "<id>"];
          if (typeof v === "number" && /_ns$|_ms$/.test(k)) return [k, "<n>"];
          if (typeof v === "string") return [k, v.replaceAll(runId, "<run>").replace(ISO, "<time>")];
          return [k, v];
        }),
      ),
    );
  }
  return JSON.stringify(out, null, 1);
}

function same(what: string, a: string, b: string): void {
  if (a === b) return;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  throw new Error(`${what}: runledger and the floor differ at byte ${i}:\n  runledger …${a.slice(Math.max(0, i - 80), i + 80)}\n  floor     …${b.slice(Math.max(0, i - 80), i + 80)}`);
}

/** Throws unless runledger and the floor send the same bytes and write the same rows. */
async function verify(server: Subject, floor: Subject, dbFile: string, agentId: string, seeded: readonly string[]): Promise<string[]> {
  const notes: string[] = [];
  for (const id of [seeded[0]!, seeded[seeded.length - 1]!]) {
    same(`GET /v1/runs/${id}`, (await api(server.base, "GET", `/v1/runs/${id}`)).text, (await api(floor.base, "GET", `/v1/runs/${id}`)).text);
  }
  const page = (await api(server.base, "GET", "/v1/runs/")).text;
  same("GET /v1/runs/", page, (await api(floor.base, "GET", "/v1/runs/")).text);
  notes.push(`GET by id and the first page (${fmt(Buffer.byteLength(page))} B): identical bytes`);

  const db = new Database(dbFile, { readonly: true });
  try {
    const created: Record<string, string> = {};
    for (const subject of [server, floor]) {
      const other = subject === server ? floor : server;
      const post = await api(subject.base, "POST", "/v1/runs", { agent_id: agentId });
      if (post.status !== 201) throw new Error(`${subject.name} POST: HTTP ${post.status} ${post.text}`);
      const id = (JSON.parse(post.text) as { id: string }).id;
      same(`${subject.name}'s POST answer against ${other.name}'s GET of the run`, subject === server ? post.text : (await api(other.base, "GET", `/v1/runs/${id}`)).text, subject === server ? (await api(other.base, "GET", `/v1/runs/${id}`)).text : post.text);
      created[subject.name] = id;
    }
    same("rows written by POST /v1/runs", rowsOf(db, created[server.name]!), rowsOf(db, created[floor.name]!));
    notes.push("POST /v1/runs: each answer is byte for byte the other process's GET of the run; same rows in runs, run_events, run_metrics, audit_log (none in webhook_deliveries, steps)");
    for (const subject of [server, floor]) {
      const id = created[subject.name]!;
      const running = await api(server.base, "PATCH", `/v1/runs/${id}`, { status: "running" });
      if (running.status !== 200) throw new Error(`PATCH running: HTTP ${running.status}`);
    }
    for (const subject of [server, floor]) {
      const other = subject === server ? floor : server;
      const id = created[subject.name]!;
      const patch = await api(subject.base, "PATCH", `/v1/runs/${id}`, { status: "completed", stop_reason: "end_turn" });
      if (patch.status !== 200) throw new Error(`${subject.name} PATCH: HTTP ${patch.status} ${patch.text}`);
      const read = (await api(other.base, "GET", `/v1/runs/${id}`)).text;
      same(`${subject.name}'s PATCH answer against ${other.name}'s GET of the run`, subject === server ? patch.text : read, subject === server ? read : patch.text);
    }
    same("rows written by POST, PATCH running (both by runledger), PATCH completed", rowsOf(db, created[server.name]!), rowsOf(db, created[floor.name]!));
    notes.push("PATCH → completed: the same; same rows (the run, its metrics' run_ns, a status event at seq 3, an audit row; the agent's last_* fields)");
  } finally {
    db.close();
  }
  notes.push("Headers differ: runledger adds x-request-id; both send content-type application/json; charset=utf-8");
  return notes;
}

// ---------------------------------------------------------------------------------------

interface RouteLoad {
  key: string;
  label: string;
  /** A spec for this subject; writes prepare their pool of runs first. */
  spec(subject: Subject, requests: number): Promise<LoadSpec>;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

interface Result {
  route: string;
  key: string;
  server: Measured[];
  floor: Measured[];
  ratios: number[];
  /** Floor CPU per request over runledger's, per round. */
  cpuRatios: number[];
  serverHalf?: Measured;
  floorHalf?: Measured;
}

async function main(): Promise<void> {
  watchdog((QUICK ? 10 : 40) * 60_000, "http-floors bench");
  const dir = mkdtempSync(join(tmpdir(), "runledger-http-floors-"));
  onExit(() => rmSync(dir, { recursive: true, force: true }));
  const dbFile = join(dir, "bench.db");
  const version = sourceVersion();
  const started = await startServer({ DATABASE_URL: `sqlite:${dbFile}`, RUNLEDGER_ADMIN_KEY: ADMIN_KEY });
  const server: Subject = { name: "runledger", base: started.baseUrl, pid: started.pid };
  const agent = await api(server.base, "POST", "/v1/agents", { name: "http floors bench" });
  const agentId = (JSON.parse(agent.text) as { id: string }).id;
  const seeded = await makeRuns(server, agentId, SEED_RUNS, false);
  console.error(`runledger on ${server.base} (pid ${server.pid}), seeded ${seeded.length} runs in ${dbFile}`);

  const floorPort = await freePort();
  const floorProcess = forkHelper("bench/floors/floor-server.ts", [], [], { FLOOR_DB: dbFile, FLOOR_KEY: ADMIN_KEY, PORT: String(floorPort), FLOOR_HTTP });
  const floor: Subject = { name: `floor (${FLOOR_HTTP})`, base: `http://127.0.0.1:${floorPort}`, pid: floorProcess.pid! };
  await waitFor(`${floor.base}/v1/runs/`);
  console.error(`floor on ${floor.base} (pid ${floor.pid})`);

  const notes = await verify(server, floor, dbFile, agentId, seeded);
  for (const note of notes) console.error(`verified: ${note}`);
  // What each process spends with no request at all: runledger's background workers (the
  // liveness reaper, the webhook dispatcher's polls, the checkpoint worker) run throughout.
  const idle = await idleCpu([server, floor], QUICK ? 2 : 5);
  notes.push(`idle CPU, no requests: runledger ${pct(idle[0]!)} of a core, the floor ${pct(idle[1]!)}`);
  console.error(`idle CPU: runledger ${pct(idle[0]!)}, floor ${pct(idle[1]!)}`);

  let rotate = 0;
  const allRoutes: RouteLoad[] = [
    { key: "get", label: "GET /v1/runs/{id}", spec: async (s) => ({ base: s.base, pid: s.pid, method: "GET", path: `/v1/runs/${seeded[0]}`, nextPath: () => `/v1/runs/${seeded[rotate++ % seeded.length]}` }) },
    { key: "list", label: "GET /v1/runs/ (first page, 100 runs)", spec: async (s) => ({ base: s.base, pid: s.pid, method: "GET", path: "/v1/runs/" }) },
    { key: "post", label: "POST /v1/runs", spec: async (s) => ({ base: s.base, pid: s.pid, method: "POST", path: "/v1/runs", body: JSON.stringify({ agent_id: agentId }) }) },
    {
      key: "patch",
      label: "PATCH /v1/runs/{id} → completed",
      spec: async (s, requests) => {
        const pool = await makeRuns(server, agentId, requests, true);
        let next = 0;
        return {
          base: s.base, pid: s.pid, method: "PATCH", path: `/v1/runs/${pool[0]}`, body: JSON.stringify({ status: "completed", stop_reason: "end_turn" }),
          nextPath: () => `/v1/runs/${pool[next++]}`, amount: requests,
        };
      },
    },
  ];
  const routes = allRoutes.filter((r) => ROUTES.includes(r.key));

  const results: Result[] = [];
  let writeRate = 4_000;
  for (const route of routes) {
    const result: Result = { route: route.label, key: route.key, server: [], floor: [], ratios: [], cpuRatios: [] };
    const timed = route.key === "patch";
    for (const subject of [server, floor]) {
      const spec = await route.spec(subject, Math.ceil(writeRate * WARMUP_S));
      await load(timed ? spec : { ...spec, seconds: WARMUP_S });
    }
    for (let round = 0; round < ROUNDS; round++) {
      const pair: Measured[] = [];
      for (const subject of round % 2 === 0 ? [server, floor] : [floor, server]) {
        const spec = await route.spec(subject, Math.ceil(writeRate * DURATION_S));
        const m = await load(timed ? spec : { ...spec, seconds: DURATION_S });
        report(`${route.label}, ${subject.name}, round ${round + 1}`, m);
        (subject === server ? result.server : result.floor).push(m);
        pair[subject === server ? 0 : 1] = m;
      }
      result.ratios.push(pair[0]!.rps / pair[1]!.rps);
      result.cpuRatios.push(cpuPerRequest(pair[1]!) / cpuPerRequest(pair[0]!));
    }
    if (route.key === "post") writeRate = Math.max(...result.floor.map((m) => m.rps), ...result.server.map((m) => m.rps));
    results.push(result);
  }

  // Writes below saturation: half runledger's saturated rate, on a fixed schedule, to both.
  for (const result of results.filter((r) => r.key === "post" || r.key === "patch")) {
    const route = routes.find((r) => r.key === result.key)!;
    const rate = Math.max(1, Math.round(median(result.server.map((m) => m.rps)) / 2));
    for (const subject of [server, floor]) {
      const spec = await route.spec(subject, rate * DURATION_S);
      const m = await load({ ...spec, rate, amount: rate * DURATION_S });
      report(`${result.route} at ${fmt(rate)} req/s, ${subject.name}`, m);
      if (subject === server) result.serverHalf = m;
      else result.floorHalf = m;
    }
  }

  await stopProcess(floorProcess, 5_000);
  await stopProcess(started.child, 30_000);
  printReport(results, notes, version);
}

async function waitFor(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { headers: AUTH, signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not up yet
    }
    await sleep(50);
  }
  throw new Error(`${url} did not answer within 30 s`);
}

/** Each process's CPU share over `seconds` without requests. */
async function idleCpu(subjects: readonly Subject[], seconds: number): Promise<number[]> {
  const before = subjects.map((s) => cpuSeconds(s.pid));
  await sleep(seconds * 1000);
  return subjects.map((s, i) => (cpuSeconds(s.pid) - before[i]!) / seconds);
}

/** Server CPU µs per request. */
function cpuPerRequest(m: Measured): number {
  return (m.serverCpuSeconds * 1e6) / Math.max(1, m.requests);
}

function report(label: string, m: Measured): void {
  console.error(
    `  ${label}: ${fmt(m.rps)} req/s, p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms, statuses ${JSON.stringify(m.statuses)}, errors ${m.errors}, ` +
      `server CPU ${pct(m.serverCpu)} (${fmt(cpuPerRequest(m))} µs/req), disk wait ${pct(m.serverDisk)}, ${kb(m.diskBytesPerRequest)} written/req, load-gen ${pct(m.loadCpu)}, other ${pct(m.otherCpu)}`,
  );
}

function printReport(results: readonly Result[], notes: readonly string[], version: string): void {
  const pick = (ms: readonly Measured[]) => {
    const rps = median(ms.map((m) => m.rps));
    return ms.find((m) => m.rps === rps)!;
  };
  const rows = results.flatMap((r) => {
    const s = pick(r.server);
    const f = pick(r.floor);
    const ratio = median(r.ratios);
    const target = TARGETS[r.key]!;
    return [
      [r.route, "runledger", fmt(s.rps), fmt(s.p50, 2), fmt(s.p99, 2), pct(s.serverCpu), fmt(cpuPerRequest(s)), pct(s.serverDisk), `**${ratio.toFixed(2)}** (${r.ratios.map((x) => x.toFixed(2)).join(", ")}; target ≥ ${target}: ${ratio >= target ? "met" : "MISSED"})`, `${median(r.cpuRatios).toFixed(2)} (${r.cpuRatios.map((x) => x.toFixed(2)).join(", ")})`, pct(s.otherCpu)],
      [r.route, `floor (${FLOOR_HTTP})`, fmt(f.rps), fmt(f.p50, 2), fmt(f.p99, 2), pct(f.serverCpu), fmt(cpuPerRequest(f)), pct(f.serverDisk), "—", "—", pct(f.otherCpu)],
    ];
  });
  console.log(markdownTable(["route", "subject", "req/s", "p50 ms", "p99 ms", "server CPU", "CPU µs/req", "disk wait", "req/s ratio (rounds)", "CPU/req ratio, floor ÷ runledger (rounds)", "other CPU"], rows));
  const half = results.filter((r) => r.serverHalf !== undefined);
  if (half.length > 0) {
    console.log();
    console.log(
      markdownTable(
        ["route, at half runledger's saturated rate", "subject", "req/s", "p50 ms", "p99 ms", "server CPU", "disk wait", `p99 < ${TARGET_P99_MS} ms`],
        half.flatMap((r) =>
          [["runledger", r.serverHalf!], [`floor (${FLOOR_HTTP})`, r.floorHalf!]].map(([name, m]) => {
            const x = m as Measured;
            return [r.route, name as string, fmt(x.rps), fmt(x.p50, 2), fmt(x.p99, 2), pct(x.serverCpu), pct(x.serverDisk), x.p99 < TARGET_P99_MS ? "yes" : "no"];
          }),
        ),
      ),
    );
  }
  console.log();
  console.log(`Source ${version}; ${cpus().length} CPUs, Node ${process.version}; ${ROUNDS} round(s) of ${DURATION_S} s per subject and route, 50 connections.`);
  for (const note of notes) console.log(`- verified: ${note}`);
  const bad = results.flatMap((r) => [...r.server, ...r.floor, ...(r.serverHalf ? [r.serverHalf, r.floorHalf!] : [])]).some((m) => m.non2xx > 0 || m.errors > 0);
  if (bad) {
    console.error("FAILED: some requests got a non-2xx answer or an error");
    process.exitCode = 1;
  }
}

function sourceVersion(): string {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = git("status", "--porcelain", "--", "src").length > 0;
    return `${git("rev-parse", "--short", "HEAD")}${dirty ? " with uncommitted changes in src/" : ""}`;
  } catch {
    return "unknown (no git)";
  }
}

runMain(main);
