/**
 * One sample every 10 s: per server process its RSS (/proc: in all, and split into the
 * process's own memory and mapped files), V8 heap used and event-loop
 * delay p99 (from the server's /metrics, prom-client's default metrics: the delay histogram
 * is reset at each scrape, so the p99 is the window's); the client's p99 per request kind
 * and its errors in the window; the WAL size. And, as context for the delays, how busy the
 * whole machine was (/proc/stat) and the loop delay p99 of an idle probe process
 * (bench/soak/probe.ts) in the same window.
 */
import type { ChildProcess } from "node:child_process";
import { forkHelper, machineCpu, rssKiB, rssPartsKiB } from "../proc.js";
import type { Recorder } from "./recorder.js";

export const SAMPLE_EVERY_MS = 10_000;

export interface ProcessSample {
  rssMiB: number;
  /** The process's own memory (RssAnon); the rest of RSS is mapped files and shared memory. */
  rssAnonMiB: number;
  rssFileMiB: number;
  heapUsedMiB: number;
  /** V8's committed heap, and memory held outside it for JS objects (Buffers): where RSS anon goes besides native code. */
  heapTotalMiB: number;
  externalMiB: number;
  loopP99Ms: number;
  /** runledger_retention_deleted_runs_total, summed over kinds. */
  retentionDeleted: number;
}

export interface Sample {
  /** Seconds since the load started. */
  t: number;
  processes: ProcessSample[];
  p99: Map<string, number>;
  requests: number;
  errors: number;
  walMiB: number;
  machineBusyPct: number;
  probeLoopP99Ms: number;
}

/** The machine's busy share and the idle probe's loop delay, per window. */
export class MachineContext {
  private last = machineCpu();
  private readonly probe: ChildProcess = forkHelper("bench/soak/probe.ts");

  async read(): Promise<{ busyPct: number; probeLoopP99Ms: number }> {
    const probeLoopP99Ms = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the probe did not answer within 5 s")), 5_000);
      this.probe.once("message", (message: { p99Ms: number }) => {
        clearTimeout(timer);
        resolve(message.p99Ms);
      });
      this.probe.send({});
    });
    const now = machineCpu();
    const busyPct = (100 * (now.busy - this.last.busy)) / Math.max(0.001, now.total - this.last.total);
    this.last = now;
    return { busyPct, probeLoopP99Ms };
  }

  close(): void {
    this.probe.kill();
  }
}

const MiB = 2 ** 20;

function metric(text: string, name: string): number {
  let sum = 0;
  let found = false;
  for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))) {
    sum += Number(match[1]);
    found = true;
  }
  if (!found) throw new Error(`/metrics has no ${name}`);
  return sum;
}

async function processSample(server: { pid: number; baseUrl: string }): Promise<ProcessSample> {
  const response = await fetch(`${server.baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`/metrics: HTTP ${response.status}`);
  let retentionDeleted = 0;
  try {
    retentionDeleted = metric(text, "runledger_retention_deleted_runs_total");
  } catch {
    // nothing deleted yet: the counter has no series
  }
  const parts = rssPartsKiB(server.pid);
  return {
    rssMiB: rssKiB(server.pid) / 1024,
    rssAnonMiB: parts.anon / 1024,
    rssFileMiB: (parts.file + parts.shmem) / 1024,
    heapUsedMiB: metric(text, "runledger_process_nodejs_heap_size_used_bytes") / MiB,
    heapTotalMiB: metric(text, "runledger_process_nodejs_heap_size_total_bytes") / MiB,
    externalMiB: metric(text, "runledger_process_nodejs_external_memory_bytes") / MiB,
    loopP99Ms: metric(text, "runledger_process_nodejs_eventloop_lag_p99_seconds") * 1_000,
    retentionDeleted,
  };
}

export async function takeSample(
  t: number,
  servers: readonly { pid: number; baseUrl: string }[],
  recorder: Recorder,
  walBytes: () => Promise<number>,
  machine: MachineContext,
): Promise<Sample> {
  // A scrape that fails or takes over 10 s is an error of the run and leaves the window's
  // figures of that process empty (NaN: the verdict and the plot skip them).
  const scrape = (server: { pid: number; baseUrl: string }) =>
    processSample(server).catch((error: unknown): ProcessSample => {
      recorder.error("metrics", `${server.baseUrl}/metrics: ${String(error)}`);
      const none = Number.NaN;
      return { rssMiB: none, rssAnonMiB: none, rssFileMiB: none, heapUsedMiB: none, heapTotalMiB: none, externalMiB: none, loopP99Ms: none, retentionDeleted: 0 };
    });
  const [processes, wal, context] = await Promise.all([Promise.all(servers.map(scrape)), walBytes(), machine.read()]);
  const window = recorder.take();
  return {
    t,
    processes,
    p99: window.p99,
    requests: window.requests,
    errors: window.errors,
    walMiB: wal / MiB,
    machineBusyPct: context.busyPct,
    probeLoopP99Ms: context.probeLoopP99Ms,
  };
}
