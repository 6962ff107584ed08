/**
 * The dashboard in headless Chromium (Debian's, driven by playwright-core) against a server
 * process on a SQLite file, with 100,000 runs:
 *
 *   npx tsx bench/dashboard.ts [--quick] [--rebuild]
 *
 * 1. Runs page: navigation start to the first row painted (renderTime of the Element Timing
 *    entry `runs-first-row`), each load in a new browser context. Floor: its data request,
 *    `GET /v1/runs/?limit=51`, timed from node.
 * 2. Run page of a 1,000-step run (written over HTTP by writeDemoRun once the server is up):
 *    to `steps-first-row` painted. Floor: `GET /v1/runs/{id}/steps?order=asc&limit=1000`.
 * 3. Live, on an open runs page showing "Live": Date.now() in node just before `POST
 *    /v1/runs` to Date.now() in a MutationObserver when the run's row exists; and just
 *    before the `completed` PATCH (sent after `running`) to its badge reading "completed".
 * 4. JS + CSS shipped, gzip and brotli, from the build's manifest.json.
 *
 * It runs `npm run build` first. The database (the "default" organization with the
 * superuser key below, its agents, runs written by raw SQL as in bench/ops-data.ts) is
 * cached in bench/.data/; each invocation serves a copy, deleted at exit. One untimed load
 * warms the server before each page's timed loads. Timing targets are judged on the p95.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync, rmSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext } from "playwright-core";
import { apiCaller, writeDemoRun } from "../test/support/demo-runs.js";
import { cachedSqlite, finishSqlite, generateRuns, insertRunsSqlite, schemaTag, sqliteWithAgents } from "./ops-data.js";
import { CpuWindow, onExit, ROOT, runMain, sleep, startServer, stopProcess, watchdog } from "./proc.js";
import { fmt, hasFlag, markdownTable, msSince, percentile } from "./stats.js";

const QUICK = hasFlag("--quick");
const RUNS = QUICK ? 5_000 : 100_000;
const AGENTS = QUICK ? 20 : 100;
const STEPS = QUICK ? 100 : 1_000;
const LOADS = QUICK ? 3 : 20;
const LIVE_SAMPLES = QUICK ? 5 : 30;
const FLOOR_SAMPLES = QUICK ? 10 : 50;
/** Pause between live samples, so one sample's refresh does not throttle the next. */
const LIVE_GAP_MS = 500;
const DAYS = 30;
const SEED = 11;
const TARGET_MS = 1_000;
const TARGET_BYTES = 150_000;
/** The superuser key the cached database is bootstrapped with (and the server is given). */
const ADMIN_KEY = "rlk_dashboardben_bench-dashboard-superuser-key";
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
/** Bump when what the database is populated with changes, so cached copies are rebuilt. */
const POPULATE_VERSION = 1;

const DATA_DIR = join(ROOT, "bench", ".data");
const CACHED_DB = join(DATA_DIR, `dashboard-${RUNS}-${AGENTS}-${schemaTag(POPULATE_VERSION)}.db`);

// ---------------------------------------------------------------------------------------
// The database: built once, copied per invocation.

async function populate(file: string): Promise<void> {
  const started = process.hrtime.bigint();
  const { db, actor, agentIds } = await sqliteWithAgents(file, { agents: AGENTS, adminKey: ADMIN_KEY });
  const end = Date.now();
  // Every run ended, so the server's liveness reaper has nothing to change during the measurements.
  const runs = generateRuns({ count: RUNS, agentIds, fromMs: end - DAYS * 86_400_000, toMs: end, seed: SEED, allEnded: true });
  insertRunsSqlite(db, actor.organization_id, runs, { events: true });
  finishSqlite(db);
  console.error(`database: ${fmt(RUNS)} runs, ${AGENTS} agents in ${fmt(msSince(started) / 1000, 1)} s`);
}

/** A fresh copy of the cached database (built first if missing or --rebuild), removed at exit. */
async function workingDatabase(): Promise<string> {
  await cachedSqlite(CACHED_DB, hasFlag("--rebuild"), populate);
  const work = join(DATA_DIR, `dashboard-work-${process.pid}.db`);
  copyFileSync(CACHED_DB, work);
  onExit(() => {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(work + suffix, { force: true });
  });
  console.error(`database: ${CACHED_DB} (${fmt(statSync(CACHED_DB).size / 2 ** 20)} MiB), served from a copy`);
  return work;
}

// ---------------------------------------------------------------------------------------
// In the page. Plain JavaScript strings: the bench is typechecked without the DOM library.

/** Notes when each timing mark is first in the DOM (`__inserted`, ms since navigation start), beside when it is painted. */
const NOTE_INSERTED = `window.__inserted = {};
new MutationObserver(() => {
  for (const marked of document.querySelectorAll("[elementtiming]")) window.__inserted[marked.getAttribute("elementtiming")] ??= performance.now();
}).observe(document, { subtree: true, childList: true });`;

/** Resolves with the renderTime (ms since navigation start) of the Element Timing entry `id`. */
const elementPainted = (id: string) => `new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("no element timing entry ${id} within 20 s")), 20000);
  new PerformanceObserver((list, observer) => {
    const entry = list.getEntries().find((e) => e.identifier === ${JSON.stringify(id)});
    if (entry === undefined) return;
    clearTimeout(timer);
    observer.disconnect();
    resolve(entry.renderTime || entry.loadTime);
  }).observe({ type: "element", buffered: true });
})`;

/** The page's requests so far, as `Resource`s. */
const RESOURCES = `[...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]
  .map((e) => ({ path: new URL(e.name).pathname + new URL(e.name).search, start: e.startTime, end: e.responseEnd }))`;

/**
 * Notes, for every runs-table row, when it was first in the DOM (`seen`) and when its badge
 * first read "completed"; `__live.wait(kind, id)` resolves with that time. (Playwright's
 * waitForFunction would eval a string, which the dashboard's CSP forbids.)
 */
const WATCH_ROWS = `(() => {
  const live = (window.__live = { seen: {}, completed: {}, waiters: [] });
  const scan = () => {
    const now = Date.now();
    for (const row of document.querySelectorAll("table.runs tr[data-run-id]")) {
      const id = row.getAttribute("data-run-id");
      live.seen[id] ??= now;
      if (row.querySelector(".badge")?.textContent === "completed") live.completed[id] ??= now;
    }
    for (const w of live.waiters.splice(0)) w.id in live[w.kind] ? w.resolve(live[w.kind][w.id]) : live.waiters.push(w);
  };
  live.wait = (kind, id) => new Promise((resolve, reject) => {
    live.waiters.push({ kind, id, resolve });
    setTimeout(() => reject(new Error(kind + " " + id + ": not within 20 s")), 20000);
    scan();
  });
  new MutationObserver(scan).observe(document.body, { subtree: true, childList: true, characterData: true });
})()`;

// ---------------------------------------------------------------------------------------
// Measurements.

/** A request of the page: path and query, start and response end (ms since navigation start). */
type Resource = { path: string; start: number; end: number };
/**
 * One load: when the marked element was painted and first in the DOM, the requests until
 * then, and the renderer main thread's busy time by then (Chromium's Performance.getMetrics).
 */
type Load = { paintMs: number; insertedMs: number; resources: Resource[]; busy: number[] };
/** The main thread's busy times a Load keeps, in ms: all tasks, then script, layout and style within them. */
const BUSY = ["TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration"] as const;

/**
 * A new browser context (no cache) whose pages start as a tab that has signed in: the key
 * and the role the server confirmed are in sessionStorage, as after a reload or for a link
 * opened from a signed-in tab. The page draws at once and confirms the key meanwhile.
 */
async function signedInContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.addInitScript({
    content: `sessionStorage.setItem("runledger.api-key", ${JSON.stringify(ADMIN_KEY)}); sessionStorage.setItem("runledger.can-write", "true");`,
  });
  await context.addInitScript({ content: NOTE_INSERTED });
  return context;
}

/** One cold load of `path` until `element` paints. */
async function coldLoad(browser: Browser, baseUrl: string, path: string, element: string): Promise<Load> {
  const context = await signedInContext(browser);
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    const cdp = await context.newCDPSession(page);
    await cdp.send("Performance.enable");
    await page.goto(`${baseUrl}${path}`);
    const paintMs = await page.evaluate<number>(elementPainted(element)).catch((error: unknown) => {
      throw new Error(`${path}: ${String(error)}; page errors: ${errors.join("; ") || "none"}`);
    });
    const metrics = new Map((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value * 1000]));
    const insertedMs = await page.evaluate<number>(`window.__inserted[${JSON.stringify(element)}]`);
    const resources = await page.evaluate<Resource[]>(RESOURCES);
    return { paintMs, insertedMs, resources, busy: BUSY.map((name) => metrics.get(name) ?? NaN) };
  } finally {
    await context.close();
  }
}

/** One untimed load to warm the server, then LOADS timed ones. */
async function coldLoads(browser: Browser, baseUrl: string, path: string, element: string, label: string): Promise<Load[]> {
  await coldLoad(browser, baseUrl, path, element);
  const loads: Load[] = [];
  for (let i = 0; i < LOADS; i++) {
    loads.push(await coldLoad(browser, baseUrl, path, element));
    console.error(`${label}: load ${i + 1}/${LOADS}: ${fmt(loads.at(-1)!.paintMs, 1)} ms`);
  }
  return loads;
}

/** The time to a whole response of `GET path` from node (keep-alive connection), after 3 warm-ups. */
async function floor(baseUrl: string, path: string): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < FLOOR_SAMPLES + 3; i++) {
    const started = process.hrtime.bigint();
    const response = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
    if (i >= 3) samples.push(msSince(started));
  }
  return samples;
}

async function liveUpdates(browser: Browser, baseUrl: string, agentId: string): Promise<{ appear: number[]; complete: number[] }> {
  const call = apiCaller(baseUrl, ADMIN_KEY);
  const context = await signedInContext(browser);
  try {
    const page = await context.newPage();
    const at = (kind: "seen" | "completed", id: string) => page.evaluate<number>(`window.__live.wait(${JSON.stringify(kind)}, ${JSON.stringify(id)})`);
    await page.goto(`${baseUrl}/`);
    await page.locator(".feed.feed-live").waitFor({ timeout: 20_000 });
    await page.locator("table.runs tr[data-run-id]").first().waitFor();
    await page.evaluate(WATCH_ROWS);
    const appear: number[] = [];
    const complete: number[] = [];
    for (let i = 0; i < LIVE_SAMPLES; i++) {
      await sleep(LIVE_GAP_MS);
      const created = Date.now();
      const run = (await call("POST", "/v1/runs", { agent_id: agentId, tags: ["bench-live"] })) as { id: string };
      appear.push((await at("seen", run.id)) - created);
      await call("PATCH", `/v1/runs/${run.id}`, { status: "running" });
      const completing = Date.now();
      await call("PATCH", `/v1/runs/${run.id}`, { status: "completed", stop_reason: "end_turn" });
      complete.push((await at("completed", run.id)) - completing);
      console.error(`live: sample ${i + 1}/${LIVE_SAMPLES}: row ${appear.at(-1)} ms, completed ${complete.at(-1)} ms`);
    }
    return { appear, complete };
  } finally {
    await context.close();
  }
}

/** Whether `pid` is `ancestor` or runs under it (the browser's processes run under this one). */
function descendsFrom(pid: number, ancestor: number): boolean {
  const parent = (p: number) => Number(readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
  try {
    for (let p = pid; p > 1; p = parent(p)) if (p === ancestor) return true;
  } catch {
    // gone
  }
  return false;
}

/** Runs `task` and notes the CPU the server, the machine and other people's processes used meanwhile. */
async function watched<T>(section: string, serverPid: number, notes: string[][], task: () => Promise<T>): Promise<T> {
  const cpu = new CpuWindow([serverPid]);
  const result = await task();
  const { perPid, machine, seconds, others } = cpu.stop();
  // The browser's processes are ours (and its per-page renderers, gone by now, are missed).
  const theirs = others.filter((o) => !descendsFrom(o.pid, process.pid));
  const pct = (share: number) => `${fmt(share * 100)} %`;
  const total = (list: typeof others) => pct(list.reduce((sum, o) => sum + o.share, 0));
  const top = theirs.slice(0, 2).map((o) => `${o.name.slice(0, 50)} ${pct(o.share)}`);
  notes.push([section, fmt(seconds, 1), pct(perPid.get(serverPid)!), pct(machine), total(theirs), top.join("; ") || "–"]);
  return result;
}

/** JS and CSS bytes of the build, gzip and brotli, from dist/dashboard/public/manifest.json. */
function bundleBytes(): { gzip: number; brotli: number; bytes: number; files: string[] } {
  const manifest = JSON.parse(readFileSync(join(ROOT, "dist", "dashboard", "public", "manifest.json"), "utf8")) as {
    assets: { name: string; bytes: number; gzipBytes: number; brotliBytes: number }[];
  };
  const code = manifest.assets.filter((a) => /\.(js|css)$/.test(a.name));
  const sum = (f: (a: (typeof code)[number]) => number) => code.reduce((total, a) => total + f(a), 0);
  return { gzip: sum((a) => a.gzipBytes), brotli: sum((a) => a.brotliBytes), bytes: sum((a) => a.bytes), files: code.map((a) => a.name) };
}

// ---------------------------------------------------------------------------------------
// Report.

function spread(xs: readonly number[]): { p50: number; p95: number; max: number } {
  const sorted = [...xs].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1)! };
}

const ms = (x: number) => fmt(x, x < 10 ? 2 : 1);
const verdict = (ok: boolean) => (ok ? "pass" : "**fail**");

function timingRow(figure: string, samples: readonly number[], floorSamples?: readonly number[]): string[] {
  const s = spread(samples);
  const f = floorSamples === undefined ? "–" : `${ms(spread(floorSamples).p50)} / ${ms(spread(floorSamples).p95)}`;
  return [figure, String(samples.length), ms(s.p50), ms(s.p95), ms(s.max), f, "< 1,000 ms", verdict(s.p95 < TARGET_MS)];
}

/** Per request kind: how many a load made, when the first started and the last ended (medians over the loads). */
function phaseRows(page: string, loads: readonly Load[], phases: [string, RegExp][]): string[][] {
  const rows: string[][] = [];
  for (const [label, pattern] of phases) {
    const matching = loads.map((l) => l.resources.filter((r) => pattern.test(r.path))).filter((rs) => rs.length > 0);
    if (matching.length === 0) continue;
    const p50 = (f: (rs: Resource[]) => number) => spread(matching.map(f)).p50;
    rows.push([page, label, fmt(p50((rs) => rs.length)), ms(p50((rs) => rs[0]!.start)), ms(p50((rs) => Math.max(...rs.map((r) => r.end))))]);
  }
  const [task, script, layout, style] = BUSY.map((_, i) => ms(spread(loads.map((l) => l.busy[i]!)).p50));
  rows.push([page, "renderer main thread in tasks, page open → just after the paint (of which script, layout, style)", "", "", `${task} (${script}, ${layout}, ${style})`]);
  rows.push([page, "first row in the DOM", "", "", ms(spread(loads.map((l) => l.insertedMs)).p50)]);
  rows.push([page, "**first row painted**", "", "", `**${ms(spread(loads.map((l) => l.paintMs)).p50)}**`]);
  return rows;
}

async function main(): Promise<void> {
  watchdog((QUICK ? 5 : 20) * 60_000, "bench/dashboard");
  const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
  const dirty = execFileSync("git", ["status", "--porcelain", "src", "scripts"], { cwd: ROOT, encoding: "utf8" }).trim();
  console.error("build: npm run build");
  execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: ["ignore", process.stderr, process.stderr] });
  const bundle = bundleBytes();

  const database = await workingDatabase();
  const server = await startServer({ DATABASE_URL: `sqlite:${database}`, RUNLEDGER_ADMIN_KEY: ADMIN_KEY });
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  const cpu: string[][] = [];
  try {
    const { baseUrl, pid } = server;
    const call = apiCaller(baseUrl, ADMIN_KEY);
    const listFloor = await floor(baseUrl, "/v1/runs/?limit=51");
    const runsLoads = await watched("runs page loads", pid, cpu, () => coldLoads(browser, baseUrl, "/", "runs-first-row", "runs page"));

    const agents = (await call("GET", "/v1/agents/?limit=1")) as { id: string }[];
    const writing = process.hrtime.bigint();
    const runId = await writeDemoRun(call, { agentId: agents[0]!.id, steps: STEPS, end: "completed", tags: ["bench-steps"] });
    console.error(`run page: wrote ${runId} with ${STEPS} steps over HTTP in ${fmt(msSince(writing) / 1000, 1)} s`);
    const stepsFloor = await floor(baseUrl, `/v1/runs/${runId}/steps?order=asc&limit=1000`);
    const runLoads = await watched("run page loads", pid, cpu, () => coldLoads(browser, baseUrl, `/runs/${runId}`, "steps-first-row", "run page"));
    const live = await watched("live updates", pid, cpu, () => liveUpdates(browser, baseUrl, agents[0]!.id));

    const kB = (n: number) => `${fmt(n / 1000, 1)} kB`;
    console.log(`## Dashboard (${QUICK ? "--quick, " : ""}commit ${commit}${dirty === "" ? "" : ", with uncommitted changes in src/ or scripts/"})\n`);
    console.log(`${fmt(RUNS)} runs, ${AGENTS} agents; run page: ${fmt(STEPS)} steps; ${LOADS} cold loads per page, ${LIVE_SAMPLES} live samples; floors: ${FLOOR_SAMPLES} requests from node. Times in ms.\n`);
    console.log(
      markdownTable(["figure", "samples", "p50", "p95", "max", "floor p50 / p95", "target", "p95 vs target"], [
        timingRow("runs page: navigation → first row painted", runsLoads.map((l) => l.paintMs), listFloor),
        timingRow(`run page (${fmt(STEPS)} steps): navigation → first step painted`, runLoads.map((l) => l.paintMs), stepsFloor),
        timingRow("live: POST /v1/runs → row in the page", live.appear),
        timingRow("live: PATCH completed → badge reads completed", live.complete),
      ]),
    );
    console.log(`\n${markdownTable([`JS + CSS (${bundle.files.join(", ")})`, "bytes", "target", "vs target"], [
      ["uncompressed", kB(bundle.bytes), "", ""],
      ["gzip", kB(bundle.gzip), "< 150 kB", verdict(bundle.gzip < TARGET_BYTES)],
      ["brotli", kB(bundle.brotli), "< 150 kB", verdict(bundle.brotli < TARGET_BYTES)],
    ])}`);
    console.log("\nWhere a load's time goes: the requests made until the first row painted (medians over the loads; ms since navigation start):\n");
    console.log(
      markdownTable(["page", "requests", "per load", "first starts", "last ends"], [
        ...phaseRows("runs", runsLoads, [
          ["index.html", /^\/$/],
          ["JS + CSS", /^\/assets\/main-/],
          ["sign-in: GET /v1/runs/?limit=1", /^\/v1\/runs\/\?limit=1$/],
          ["sign-in: dry-run bulk cancel", /^\/v1\/runs\/bulk\/cancel/],
          ["GET /v1/agents/?limit=1000", /^\/v1\/agents\//],
          ["GET /v1/runs/?limit=51", /^\/v1\/runs\/\?limit=51$/],
          ["GET /v1/runs/{id}/metrics", /\/metrics$/],
        ]),
        ...phaseRows("run", runLoads, [
          ["index.html", /^\/runs\//],
          ["JS + CSS", /^\/assets\/main-/],
          ["sign-in (2 requests)", /^\/v1\/runs\/(\?limit=1|bulk\/cancel)/],
          ["GET /v1/runs/{id}", /^\/v1\/runs\/run-[^/?]+$/],
          ["GET …/steps?order=asc&limit=1000 (and after=)", /\/steps\?order=asc&limit=1000/],
        ]),
      ]),
    );
    console.log(`\nCPU while measuring (share of one core; the machine: of all ${availableParallelism()}):\n`);
    console.log(markdownTable(["section", "seconds", "server", "machine busy", "other people's processes (alive at the end)", "the busiest of them"], cpu));
  } finally {
    await browser.close();
    await stopProcess(server.child);
  }
}

runMain(main);
