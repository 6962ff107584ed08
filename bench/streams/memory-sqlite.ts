/**
 * Server memory per idle subscriber, SQLite, on its own server started with --inspect so
 * the bench can force full GCs: after a quiet period, two forced GCs, then V8's heap usage
 * and 5 VmRSS samples — at 0, BIG and 2 × BIG idle subscribers, after IDLE_HOLD_MS more
 * idle (growth per minute, server CPU), and after they all left.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gcAndHeapUsage, inspectorUrl } from "../inspect-heap.js";
import { CpuWindow, onExit, rssKiB, sleep, startServer, stopProcess } from "../proc.js";
import { fmt } from "../stats.js";
import { ADMIN_KEY, BIG, call, IDLE_HOLD_MS, QUICK, reportOutput, runningRun } from "./context.js";
import { warmUp } from "./measure.js";
import { attach, localPool } from "./pools.js";

export interface MemoryState {
  state: string;
  subscribers: number;
  rssKiB: number;
  rssSamples: number[];
  heapUsed: number;
  /** When the heap was read, ms after the last subscribers attached. */
  at: number;
}

export interface SqliteMemory {
  states: MemoryState[];
  /** The server's CPU share (of one core) while it held 2 × BIG idle subscribers. */
  idleCpu: number;
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

export async function sqliteMemory(): Promise<SqliteMemory> {
  const dir = mkdtempSync(join(tmpdir(), "runledger-bench-streams-"));
  onExit(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startServer({ DATABASE_URL: `sqlite:${join(dir, "b.db")}`, RUNLEDGER_ADMIN_KEY: ADMIN_KEY }, ["--inspect=127.0.0.1:0"]);
  const quiet = QUICK ? 2_000 : 5_000;
  const states: MemoryState[] = [];
  let idleCpu: number;
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
    return { states, idleCpu };
  } finally {
    await stopProcess(server.child);
    reportOutput("memory server", server);
  }
}
