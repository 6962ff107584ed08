/**
 * SQLite, one server process: write → delivery latency at SMALL and BIG subscribers in this
 * process, BIG for SUSTAINED_WRITES writes (reported per 10 s window), and BIG split across
 * 2 worker processes (to show whether this process is the bottleneck). With --profile the
 * server runs under `node --cpu-prof` and the profile is kept in bench/profiles/.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onExit, ROOT, startServer, stopProcess } from "../proc.js";
import { fmt } from "../stats.js";
import { ADMIN_KEY, BIG, call, PROFILE, reportOutput, runningRun, SMALL, SUSTAINED_WRITES } from "./context.js";
import { measure, type Measurement, type Recorder, warmUp } from "./measure.js";
import { attach, localPool, workerPool } from "./pools.js";

export interface SqliteFanout {
  /** The sustained measurement, reported per window. */
  sustained: Measurement;
  /** The kept CPU profile, with --profile. */
  profile: string | undefined;
}

const PROFILE_DIR = join(ROOT, "bench", "profiles");

export async function sqliteFanout(recorder: Recorder): Promise<SqliteFanout> {
  const dir = mkdtempSync(join(tmpdir(), "runledger-bench-streams-"));
  onExit(() => rmSync(dir, { recursive: true, force: true }));
  // One profile per thread (tsx's loader runs in a worker): the main thread's is tid 0.
  const profileDir = mkdtempSync(join(tmpdir(), "runledger-bench-prof-"));
  onExit(() => rmSync(profileDir, { recursive: true, force: true }));
  const profileArgs = PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  const server = await startServer({ DATABASE_URL: `sqlite:${join(dir, "b.db")}`, RUNLEDGER_ADMIN_KEY: ADMIN_KEY }, profileArgs);
  const servers = [{ label: "server", pid: server.pid }];
  let sustained: Measurement;
  try {
    const agent = await call<{ id: string }>(server.baseUrl, "POST", "/v1/agents", { name: "streams bench" });
    console.error("sqlite: warm-up");
    await warmUp(server.baseUrl, agent.id);

    for (const count of [SMALL, BIG]) {
      console.error(`sqlite: ${count} subscribers in this process`);
      const run = await runningRun(server.baseUrl, agent.id);
      const pool = localPool("in-process", count + 16);
      await attach([{ pool, count }], `${server.baseUrl}/v1/runs/${run}/events`);
      recorder.record("SQLite", fmt(count), "1 server, subscribers in bench process", await measure([{ label: "all", pools: [pool], subscribers: count }], server.baseUrl, run, servers));
      await call(server.baseUrl, "PATCH", `/v1/runs/${run}`, { status: "completed" });
      await pool.close();
    }

    console.error(`sqlite: ${BIG} subscribers in this process, sustained: ${SUSTAINED_WRITES} writes`);
    {
      const run = await runningRun(server.baseUrl, agent.id);
      const pool = localPool("in-process", BIG + 16);
      await attach([{ pool, count: BIG }], `${server.baseUrl}/v1/runs/${run}/events`);
      sustained = await measure([{ label: "all", pools: [pool], subscribers: BIG }], server.baseUrl, run, servers, SUSTAINED_WRITES);
      recorder.record("SQLite", fmt(BIG), `1 server, subscribers in bench process, sustained ${fmt(SUSTAINED_WRITES)} writes`, sustained);
      await call(server.baseUrl, "PATCH", `/v1/runs/${run}`, { status: "completed" });
      await pool.close();
    }

    console.error(`sqlite: ${BIG} subscribers split across 2 worker processes`);
    const splitRun = await runningRun(server.baseUrl, agent.id);
    const w1 = await workerPool("1");
    const w2 = await workerPool("2");
    const url = `${server.baseUrl}/v1/runs/${splitRun}/events`;
    await attach([{ pool: w1, count: BIG / 2 }, { pool: w2, count: BIG / 2 }], url);
    recorder.record("SQLite", fmt(BIG), "1 server, subscribers in 2 worker processes", await measure([{ label: "all", pools: [w1, w2], subscribers: BIG }], server.baseUrl, splitRun, servers));
    await call(server.baseUrl, "PATCH", `/v1/runs/${splitRun}`, { status: "completed" });
    await Promise.all([w1.close(), w2.close()]);
  } finally {
    await stopProcess(server.child, 15_000);
    reportOutput("SQLite server", server);
  }
  return { sustained, profile: PROFILE ? keepProfile(profileDir, server.pid) : undefined };
}

function keepProfile(profileDir: string, pid: number): string | undefined {
  const main = readdirSync(profileDir).find((f) => f.includes(`.${pid}.0.`));
  if (main === undefined) return undefined;
  mkdirSync(PROFILE_DIR, { recursive: true });
  const target = join(PROFILE_DIR, "streams-sqlite-server.cpuprofile");
  copyFileSync(join(profileDir, main), target);
  return target;
}
