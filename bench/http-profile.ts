/**
 * Where the server's CPU goes under one route's load: starts the real server on a fresh
 * SQLite file, seeds an agent (and, for reads, 2,000 runs; for PATCH, a pool of running
 * runs), warms the route up for 2 s, then profiles the server (V8's sampling profiler,
 * through bench/profile-window.mjs) only while autocannon drives the route at 50
 * connections, and summarizes the profile with bench/cpuprofile-summary.ts.
 *
 *   npx tsx bench/http-profile.ts post|patch|get|list [--seconds=10] [--keep] [function names…]
 *
 * --keep leaves the .cpuprofile (its path is printed) for a closer look.
 */
import autocannon from "autocannon";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, runMain, sleep, startServer, stopProcess } from "./proc.js";

const route = process.argv[2] ?? "post";
const seconds = Number(/--seconds=(\d+)/.exec(process.argv.join(" "))?.[1] ?? 10);

async function main(): Promise<void> {
  if (!["post", "patch", "get", "list"].includes(route)) throw new Error(`unknown route '${route}': use post, patch, get or list`);
  const dir = mkdtempSync(join(tmpdir(), "runledger-http-profile-"));
  const file = join(dir, "window.cpuprofile");
  const key = `rlk_profileprofi_${randomBytes(24).toString("base64url")}`;
  const auth = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const server = await startServer(
    { DATABASE_URL: `sqlite:${join(dir, "bench.db")}`, RUNLEDGER_ADMIN_KEY: key, PROFILE_WINDOW_FILE: file },
    ["--import", join(ROOT, "bench/profile-window.mjs")],
  );
  try {
    const send = async (method: string, path: string, body: unknown) => {
      const response = await fetch(server.baseUrl + path, { method, headers: auth, body: JSON.stringify(body) });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as { id: string };
    };
    const agent = await send("POST", "/v1/agents", { name: "profiled" });
    const runs: string[] = [];
    const seed = route === "patch" ? 6_000 * (seconds + 2) : route === "post" ? 0 : 2_000;
    await run(server.baseUrl, auth, seed, { method: "POST", path: "/v1/runs", body: JSON.stringify({ agent_id: agent.id }) }, (body) => runs.push((JSON.parse(body) as { id: string }).id));
    if (route === "patch") {
      let i = 0;
      await run(server.baseUrl, auth, runs.length, { method: "PATCH", body: JSON.stringify({ status: "running" }), setupRequest: (r) => ({ ...r, path: `/v1/runs/${runs[i++]}` }) });
    }
    let next = 0;
    const request: autocannon.Request =
      route === "post"
        ? { method: "POST", path: "/v1/runs", body: JSON.stringify({ agent_id: agent.id }) }
        : route === "patch"
          ? { method: "PATCH", body: JSON.stringify({ status: "completed", stop_reason: "end_turn" }), setupRequest: (r) => (next < runs.length ? { ...r, path: `/v1/runs/${runs[next++]}` } : null) }
          : { method: "GET", setupRequest: (r) => ({ ...r, path: route === "list" ? "/v1/runs/" : `/v1/runs/${runs[next++ % runs.length]}` }) };
    await load(server.baseUrl, auth, 2, request);
    server.child.kill("SIGUSR2");
    const result = await load(server.baseUrl, auth, seconds, request);
    server.child.kill("SIGUSR2");
    const deadline = Date.now() + 30_000;
    while (!existsSync(`${file}.done`)) {
      if (Date.now() > deadline) throw new Error("the server wrote no profile");
      await sleep(50);
    }
    console.log(`${route}: ${Math.round(result.requests.average)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}`);
  } finally {
    await stopProcess(server.child, 30_000);
  }
  execFileSync(process.execPath, ["--import", "tsx", join(ROOT, "bench/cpuprofile-summary.ts"), file, ...process.argv.slice(3).filter((a) => !a.startsWith("--"))], { stdio: "inherit", cwd: ROOT });
  if (process.argv.includes("--keep")) console.log(`profile kept: ${file}`);
  else rmSync(dir, { recursive: true, force: true });
}

function load(url: string, headers: Record<string, string>, duration: number, request: autocannon.Request): Promise<autocannon.Result> {
  return new Promise((resolve, reject) =>
    autocannon({ url, connections: 50, duration, headers, requests: [request] }, (error, done) => (error ? reject(error) : resolve(done))),
  );
}

/** Sends `amount` requests (50 at a time); `onBody` hears each 2xx answer. */
function run(url: string, headers: Record<string, string>, amount: number, request: autocannon.Request, onBody?: (body: string) => void): Promise<autocannon.Result> {
  if (amount === 0) return Promise.resolve({} as autocannon.Result);
  return new Promise((resolve, reject) =>
    autocannon(
      { url, connections: 50, amount, headers, requests: [{ ...request, ...(onBody === undefined ? {} : { onResponse: (status: number, body: string) => status < 300 && onBody(body) }) }] },
      (error, done) => (error ? reject(error) : resolve(done)),
    ),
  );
}

runMain(main);
