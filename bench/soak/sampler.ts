/**
 * One sample every 10 s: per server process its RSS (/proc), V8 heap used and event-loop
 * delay p99 (from the server's /metrics, prom-client's default metrics: the delay histogram
 * is reset at each scrape, so the p99 is the window's); the client's p99 per request kind
 * and its errors in the window; the WAL size.
 */
import { rssKiB } from "../proc.js";
import type { Recorder } from "./recorder.js";

export const SAMPLE_EVERY_MS = 10_000;

export interface ProcessSample {
  rssMiB: number;
  heapUsedMiB: number;
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
  return {
    rssMiB: rssKiB(server.pid) / 1024,
    heapUsedMiB: metric(text, "runledger_process_nodejs_heap_size_used_bytes") / MiB,
    loopP99Ms: metric(text, "runledger_process_nodejs_eventloop_lag_p99_seconds") * 1_000,
    retentionDeleted,
  };
}

export async function takeSample(t: number, servers: readonly { pid: number; baseUrl: string }[], recorder: Recorder, walBytes: () => Promise<number>): Promise<Sample> {
  const [processes, wal] = await Promise.all([Promise.all(servers.map(processSample)), walBytes()]);
  const window = recorder.take();
  return { t, processes, p99: window.p99, requests: window.requests, errors: window.errors, walMiB: wal / MiB };
}
