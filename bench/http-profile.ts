/**
 * Where the server's CPU goes under one route's load: starts the real server on a fresh
 * SQLite file with `node --cpu-prof`, seeds an agent (and, for reads, 2,000 runs), drives
 * the route with autocannon at 50 connections for 10 s, stops the server and summarizes
 * the profile with bench/cpuprofile-summary.ts.
 *
 *   npx tsx bench/http-profile.ts post|get|list [--seconds=10]
 */
import autocannon from "autocannon";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, runMain, startServer, stopProcess } from "./proc.js";

const route = process.argv[2] ?? "post";
const seconds = Number(/--seconds=(\d+)/.exec(process.argv.join(" "))?.[1] ?? 10);

async function main(): Promise<void> {
  if (!["post", "get", "list"].includes(route)) throw new Error(`unknown route '${route}': use post, get or list`);
  const dir = mkdtempSync(join(tmpdir(), "runledger-http-profile-"));
  const key = `rlk_profileprofi_${randomBytes(24).toString("base64url")}`;
  const auth = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const server = await startServer({ DATABASE_URL: `sqlite:${join(dir, "bench.db")}`, RUNLEDGER_ADMIN_KEY: key }, ["--cpu-prof", `--cpu-prof-dir=${dir}`]);
  try {
    const post = async (path: string, body: unknown) => {
      const response = await fetch(server.baseUrl + path, { method: "POST", headers: auth, body: JSON.stringify(body) });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as { id: string };
    };
    const agent = await post("/v1/agents", { name: "profiled" });
    const runs: string[] = [];
    if (route !== "post") for (let i = 0; i < 2_000; i++) runs.push((await post("/v1/runs", { agent_id: agent.id })).id);
    let next = 0;
    const result = await new Promise<autocannon.Result>((resolve, reject) => autocannon({
      url: server.baseUrl,
      connections: 50,
      duration: seconds,
      headers: auth,
      requests: [
        route === "post"
          ? { method: "POST", path: "/v1/runs", body: JSON.stringify({ agent_id: agent.id }) }
          : { method: "GET", setupRequest: (request) => ({ ...request, path: route === "list" ? "/v1/runs/" : `/v1/runs/${runs[next++ % runs.length]}` }) },
      ],
    }, (error, done) => (error ? reject(error) : resolve(done))));
    console.log(`${route}: ${Math.round(result.requests.average)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}`);
  } finally {
    await stopProcess(server.child, 30_000);
  }
  const profile = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (profile === undefined) throw new Error(`the server wrote no profile into ${dir}`);
  execFileSync(process.execPath, ["--import", "tsx", join(ROOT, "bench/cpuprofile-summary.ts"), join(dir, profile), ...process.argv.slice(3).filter((a) => !a.startsWith("--"))], { stdio: "inherit", cwd: ROOT });
  rmSync(dir, { recursive: true, force: true });
}

runMain(main);
