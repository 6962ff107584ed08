/**
 * A bounded soak of real server processes: a steady mixed load for a fixed time, a sample
 * every 10 s, and a verdict on whether each series stayed flat after the warm-up.
 *
 *   npx tsx bench/soak.ts [--backend sqlite|postgres|both] [--minutes 10] [--processes 3]
 *
 * SQLite: one server on a fresh file. PostgreSQL: `--processes` servers on a fresh database
 * (`soak_<random>`, dropped at exit), the load round robin over them. Each server runs with
 * webhooks allowed to 127.0.0.1, retention every 15 s and an organization policy of one
 * day for ended runs and no grace for soft-deleted ones. The load (bench/soak/load.ts) is
 * open loop; SSE followers and the webhook receiver are in bench/soak/followers.ts; the
 * samples in bench/soak/sampler.ts; "flat" is defined in bench/soak/verdict.ts. The
 * servers run with --inspect=127.0.0.1:0 so the soak can also read V8's heap after two
 * forced full GCs, with the load paused: halfway through the warm-up and after the load.
 *
 * Prints a markdown table per backend on stdout (progress on stderr), writes
 * docs/soak-<backend>.svg, and exits 0 when every series of every backend passed and
 * nothing failed (no 5xx, no request error, no error logged by a server), 1 otherwise.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gcAndHeapUsage, inspectorUrl } from "./inspect-heap.js";
import { CpuWindow, ROOT, sleep, startServer, stopProcess, watchdog, type ServerProcess } from "./proc.js";
import { fmt, markdownTable } from "./stats.js";
import { Followers, WebhookReceiver } from "./soak/followers.js";
import { RATES, SoakLoad } from "./soak/load.js";
import { renderSvg } from "./soak/plot.js";
import { Recorder } from "./soak/recorder.js";
import { MachineContext, SAMPLE_EVERY_MS, type Sample, takeSample } from "./soak/sampler.js";
import { postgresScratch, type Scratch, sqliteScratch } from "./soak/scratch.js";
import { BOUNDS, type Judgement, judge, type Series } from "./soak/verdict.js";

type Backend = "sqlite" | "postgres";

const { values: flags } = parseArgs({
  options: {
    backend: { type: "string", default: "both" },
    minutes: { type: "string", default: "10" },
    processes: { type: "string", default: "3" },
  },
  strict: true,
});
if (!["sqlite", "postgres", "both"].includes(flags.backend)) throw new Error("--backend must be sqlite, postgres or both");
const MINUTES = Number(flags.minutes);
const PROCESSES = Number(flags.processes);
if (!(MINUTES >= 1) || !Number.isInteger(MINUTES)) throw new Error("--minutes must be a whole number, at least 1");
if (!(PROCESSES >= 1) || !Number.isInteger(PROCESSES)) throw new Error("--processes must be a whole number, at least 1");
const BACKENDS: Backend[] = flags.backend === "both" ? ["sqlite", "postgres"] : [flags.backend as Backend];

const TOTAL_S = MINUTES * 60;
/** Two minutes, or a fifth of a shorter soak, in whole samples. */
const WARMUP_S = Math.max(SAMPLE_EVERY_MS / 1000, Math.min(120, Math.round(TOTAL_S / 5 / 10) * 10));
/**
 * The heap after forced GCs is read with the load paused, halfway through the warm-up (a
 * full GC hands memory back to the system, and RSS takes a minute or two to grow back: read
 * later, that regrowth lands in the judged window), and after the load.
 */
const GC_READ_AT_S = Math.max(SAMPLE_EVERY_MS / 1000, Math.round(WARMUP_S / 2 / 10) * 10);
const SETTLE_MS = 2_000;
const RUN_FOLLOWERS = 4;
const FEED_FOLLOWERS = 2;
const AGENTS = 4;
const WEBHOOK_DRAIN_MS = 20_000;
/** The heap after two forced GCs may grow this much from the warm-up's end to the end. */
const GC_HEAP_BOUND = { change: 0.1, floorMiB: 4 };
const ADMIN_KEY = `rlk_soakadmin001_${randomBytes(20).toString("hex")}`;

watchdog((BACKENDS.length * (MINUTES + 3) + 2) * 60_000, "soak");

interface BackendResult {
  backend: Backend;
  processes: number;
  judgements: Judgement[];
  gcHeap: { before: number; after: number; pass: boolean }[];
  recorder: Recorder;
  serverErrorLines: string[];
  notes: string[];
}

function commit(): string {
  const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
  const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: ROOT, encoding: "utf8" }).trim() !== "";
  return dirty ? `${head} (with uncommitted changes)` : head;
}

async function call<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** One server at a time, so the others keep serving while one is paused in its full GCs. */
async function gcHeapMiB(servers: readonly ServerProcess[]): Promise<number[]> {
  const out: number[] = [];
  for (const server of servers) {
    const url = inspectorUrl(server.head());
    if (url === undefined) throw new Error("a server printed no inspector URL");
    out.push((await gcAndHeapUsage(url)).usedSize / 2 ** 20);
  }
  return out;
}

/** Lines a server logged at error level or above (pino: level ≥ 50). */
function errorLines(server: ServerProcess): string[] {
  return server
    .output()
    .split("\n")
    .filter((line) => /"level":\s*(50|60)/.test(line));
}

function seriesOf(samples: readonly Sample[], processes: number, backend: Backend): Series[] {
  const out: Series[] = [];
  const finite = (series: Series): Series => ({ ...series, points: series.points.filter((p) => Number.isFinite(p.v)) });
  const suffix = (i: number) => (processes === 1 ? "" : ` · server ${i + 1}`);
  for (let i = 0; i < processes; i++) {
    out.push(
      // RSS in all includes the pages of a memory-mapped SQLite file that reads touched,
      // which grow with the file (the audit log only grows); the process's own memory is
      // what a leak would grow, so that is the one judged.
      { name: `RSS${suffix(i)}`, unit: "MiB", bound: BOUNDS.rss, judged: false, points: samples.map((s) => ({ t: s.t, v: s.processes[i]!.rssMiB })) },
      { name: `RSS anon${suffix(i)}`, unit: "MiB", bound: BOUNDS.rss, points: samples.map((s) => ({ t: s.t, v: s.processes[i]!.rssAnonMiB })) },
      { name: `RSS file + shmem${suffix(i)}`, unit: "MiB", bound: BOUNDS.rss, judged: false, points: samples.map((s) => ({ t: s.t, v: s.processes[i]!.rssFileMiB })) },
      { name: `heap used${suffix(i)}`, unit: "MiB", bound: BOUNDS.heap, points: samples.map((s) => ({ t: s.t, v: s.processes[i]!.heapUsedMiB })) },
      { name: `heap committed${suffix(i)}`, unit: "MiB", bound: BOUNDS.heap, judged: false, points: samples.map((s) => ({ t: s.t, v: s.processes[i]!.heapTotalMiB })) },
      { name: `external${suffix(i)}`, unit: "MiB", bound: BOUNDS.heap, judged: false, points: samples.map((s) => ({ t: s.t, v: s.processes[i]!.externalMiB })) },
      { name: `event-loop p99${suffix(i)}`, unit: "ms", bound: BOUNDS.loop, points: samples.map((s) => ({ t: s.t, v: s.processes[i]!.loopP99Ms })) },
    );
  }
  const kinds = [...new Set(samples.flatMap((s) => [...s.p99.keys()]))].sort();
  for (const kind of kinds) {
    const points = samples.filter((s) => s.p99.has(kind)).map((s) => ({ t: s.t, v: s.p99.get(kind)! }));
    out.push({ name: `p99 ${kind}`, unit: "ms", bound: BOUNDS.latency, points });
  }
  // PostgreSQL's WAL is the whole cluster's, written by whatever else uses the server too:
  // shown beside the figures, not judged.
  out.push({
    name: backend === "sqlite" ? "WAL file size" : "WAL written per 10 s (cluster)",
    unit: "MiB",
    bound: backend === "sqlite" ? BOUNDS.sqliteWal : BOUNDS.postgresWal,
    judged: backend === "sqlite",
    points: samples.map((s) => ({ t: s.t, v: s.walMiB })),
  });
  const context = { change: 0, hourly: 0, floor: 0 };
  out.push(
    { name: "machine CPU busy", unit: "% of both cores", bound: context, judged: false, points: samples.map((s) => ({ t: s.t, v: s.machineBusyPct })) },
    { name: "idle probe's event-loop p99", unit: "ms", bound: context, judged: false, points: samples.map((s) => ({ t: s.t, v: s.probeLoopP99Ms })) },
  );
  return out.map(finite);
}

async function soak(backend: Backend): Promise<BackendResult> {
  const processes = backend === "sqlite" ? 1 : PROCESSES;
  const scratch: Scratch = backend === "sqlite" ? sqliteScratch() : await postgresScratch();
  const env = {
    DATABASE_URL: scratch.databaseUrl,
    RUNLEDGER_ADMIN_KEY: ADMIN_KEY,
    RUNLEDGER_WEBHOOK_ALLOWLIST: "127.0.0.1",
    RUNLEDGER_RETENTION_INTERVAL: "15s",
  };
  const servers: ServerProcess[] = [];
  const recorder = new Recorder();
  const receiver = new WebhookReceiver(recorder);
  const notes: string[] = [];
  const machine = new MachineContext();
  try {
    // One after another: the first migrates and creates the organization and the key.
    for (let i = 0; i < processes; i++) servers.push(await startServer(env, ["--inspect=127.0.0.1:0"]));
    const bases = servers.map((s) => s.baseUrl);
    const agentIds: string[] = [];
    for (let i = 0; i < AGENTS; i++) agentIds.push((await call<{ id: string }>(bases[0]!, "POST", "/v1/agents", { name: `soak agent ${i + 1}` })).id);
    await call(bases[0]!, "PUT", "/v1/retention-policy", { terminal_days: 1, soft_deleted_grace_days: 0 });
    await receiver.start();

    const load = new SoakLoad({ baseUrls: bases, apiKey: ADMIN_KEY, agentIds, callbackUrl: receiver.url }, recorder, (id, at) => receiver.ended(id, at));
    const followers = new Followers(ADMIN_KEY, recorder);
    console.error(`${backend}: ${processes} server process(es), ${MINUTES} min, warm-up ${WARMUP_S} s`);
    const start = performance.now();
    load.start();
    followers.followRuns(RUN_FOLLOWERS, () => load.nextToFollow());
    followers.followFeeds(Array.from({ length: FEED_FOLLOWERS }, (_, i) => bases[i % bases.length]!));

    const samples: Sample[] = [];
    let gcBefore: number[] = [];
    let cpu: CpuWindow | undefined;
    for (let k = 1; k * SAMPLE_EVERY_MS <= TOTAL_S * 1000; k++) {
      await sleep(Math.max(0, start + k * SAMPLE_EVERY_MS - performance.now()));
      const sample = await takeSample(k * (SAMPLE_EVERY_MS / 1000), servers, recorder, () => scratch.walBytes(), machine);
      samples.push(sample);
      const p = sample.processes.map((s) => `${fmt(s.rssMiB)}/${fmt(s.heapUsedMiB)} MiB ${fmt(s.loopP99Ms, 1)} ms`).join(", ");
      console.error(
        `  ${backend} ${String(sample.t).padStart(4)} s: ${sample.requests} answers, ${sample.errors} errors, WAL ${fmt(sample.walMiB, 1)} MiB; ` +
          `rss/heap loop: ${p}; machine ${fmt(sample.machineBusyPct)}% busy, probe loop ${fmt(sample.probeLoopP99Ms, 1)} ms`,
      );
      if (sample.t === GC_READ_AT_S) {
        // With the load paused: a forced full GC under load stalled a server for seconds on
        // this machine and timed its requests out, which is the reading's fault, not the server's.
        await load.stop();
        await sleep(SETTLE_MS);
        gcBefore = await gcHeapMiB(servers);
        load.start();
      }
      if (sample.t === WARMUP_S) cpu = new CpuWindow([process.pid, ...servers.map((s) => s.pid)]);
    }
    const shares = cpu?.stop();
    await load.stop();
    await sleep(SETTLE_MS);
    const gcAfter = await gcHeapMiB(servers);
    await followers.stop();
    await receiver.drain(WEBHOOK_DRAIN_MS);

    const deleted = samples.at(-1)!.processes.reduce((sum, p) => sum + p.retentionDeleted, 0);
    notes.push(
      `${fmt(load.lifecycles)} lifecycles started; ${fmt(recorder.requests)} answers timed, ${fmt(recorder.errors)} errors (${recorder.serverErrors} of them 5xx)`,
      `webhooks: ${fmt(receiver.delivered)} received (${receiver.duplicates} duplicates); SSE: ${fmt(followers.runsFollowed)} runs followed to their end, ${fmt(followers.feedEvents)} feed events`,
      `retention sweeper deleted ${fmt(deleted)} runs`,
    );
    if (shares !== undefined) {
      const serverShares = servers.map((s) => `${fmt(100 * shares.perPid.get(s.pid)!)}%`).join(", ");
      notes.push(
        `CPU after the warm-up (share of one core): server(s) ${serverShares}; this load generator ${fmt(100 * shares.perPid.get(process.pid)!)}%; whole machine ${fmt(100 * shares.machine)}% of both cores`,
      );
    }
    const judgements = seriesOf(samples, processes, backend).map((s) => judge(s, WARMUP_S));
    const gcHeap = gcBefore.map((before, i) => {
      const after = gcAfter[i]!;
      return { before, after, pass: after - before <= Math.max(GC_HEAP_BOUND.change * before, GC_HEAP_BOUND.floorMiB) };
    });
    return { backend, processes, judgements, gcHeap, recorder, serverErrorLines: servers.flatMap(errorLines), notes };
  } finally {
    machine.close();
    await receiver.close();
    await Promise.all(servers.map((s) => stopProcess(s.child)));
    await scratch.drop();
  }
}

function report(result: BackendResult, measured: string): boolean {
  const n = (v: number) => fmt(v, Math.abs(v) >= 100 ? 0 : 1);
  const rows = result.judgements.map((j) => [
    j.series.name,
    j.series.unit,
    n(j.first),
    n(j.last),
    `${j.change >= 0 ? "+" : ""}${n(j.change)} (≤ ${n(j.changeLimit)})`,
    `${j.hourly >= 0 ? "+" : ""}${n(j.hourly)} (≤ ${n(j.hourlyLimit)})`,
    j.series.judged === false ? "context" : j.pass ? "PASS" : "**FAIL**",
  ]);
  result.gcHeap.forEach((g, i) => {
    const name = `heap after forced GC${result.processes === 1 ? "" : ` · server ${i + 1}`}`;
    const limit = Math.max(GC_HEAP_BOUND.change * g.before, GC_HEAP_BOUND.floorMiB);
    rows.push([name, "MiB", n(g.before), n(g.after), `${g.after >= g.before ? "+" : ""}${n(g.after - g.before)} (≤ ${n(limit)})`, "—", g.pass ? "PASS" : "**FAIL**"]);
  });
  const clean = result.recorder.errors === 0 && result.serverErrorLines.length === 0;
  const pass = clean && result.judgements.every((j) => j.pass) && result.gcHeap.every((g) => g.pass);
  const processes = result.backend === "sqlite" ? "1 server process" : `${result.processes} server processes on one database`;
  console.log(`\n### ${result.backend}: ${processes}, ${MINUTES} min (${WARMUP_S} s warm-up), ${measured}\n`);
  console.log(markdownTable(["series", "unit", "first third (median)", "last third (median)", "change", "slope per hour", "verdict"], rows));
  console.log("");
  for (const note of result.notes) console.log(`- ${note}`);
  console.log(`- errors: ${result.recorder.errors === 0 ? "none" : result.recorder.firstErrors.join("; ")}; server error lines: ${result.serverErrorLines.length === 0 ? "none" : result.serverErrorLines.slice(0, 5).join(" | ")}`);
  console.log(`- **${result.backend}: ${pass ? "PASS" : "FAIL"}**`);
  return pass;
}

async function main(): Promise<void> {
  const measured = `commit ${commit()}`;
  const r = RATES;
  console.log(
    `Load per second: ${r.lifecyclesPerS} lifecycles (${r.lifecyclesPerS * 6} writes), ${r.getsPerS} reads by id, ${r.listsPerS} lists, ${r.statsPerS} stats; ` +
      `bulk delete every ${r.bulkDeleteEveryS} s of runs older than ${r.keepS} s; ${RUN_FOLLOWERS} run followers, ${FEED_FOLLOWERS} feed followers.`,
  );
  let pass = true;
  for (const backend of BACKENDS) {
    const result = await soak(backend);
    pass = report(result, measured) && pass;
    const processes = result.backend === "sqlite" ? "1 server process" : `${result.processes} server processes`;
    const svg = renderSvg(
      `runledger soak: ${backend}, ${processes}, ${MINUTES} min`,
      `${measured}; ${result.judgements.every((j) => j.pass) && result.recorder.errors === 0 ? "every series flat, no errors" : "NOT flat or errors: see BENCHMARKS.md"}`,
      result.judgements,
      WARMUP_S,
      TOTAL_S,
    );
    mkdirSync(join(ROOT, "docs"), { recursive: true });
    writeFileSync(join(ROOT, "docs", `soak-${backend}.svg`), svg);
    console.error(`wrote docs/soak-${backend}.svg`);
  }
  console.log(`\n**Overall: ${pass ? "PASS" : "FAIL"}**`);
  process.exit(pass ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
