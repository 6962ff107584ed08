/**
 * The load side of bench/http-floors.ts: one measured run of a route (autocannon as fast as the
 * server answers, or bench/steady-load.ts on a fixed schedule), with every response's
 * latency and the server's CPU, run-queue, disk-wait and write figures from /proc, plus the
 * quiet-machine wait and the retry of noisy runs.
 */
import autocannon from "autocannon";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { cpuSeconds, machineCpu } from "./proc.js";
import { steadyLoad } from "./steady-load.js";

export const QUICK = process.argv.slice(2).includes("--quick");
export const CONNECTIONS = 50;
export const DURATION_S = QUICK ? 2 : 10;
export const WARMUP_S = QUICK ? 1 : 3;
export const QUIET_WAIT_MS = (QUICK ? 0.25 : 3) * 60_000;
const NOISE_LIMIT = 0.1;
const ATTEMPTS = 4;
/** rlk_ + 12 letters/digits + _ + a random secret. */
export const ADMIN_KEY = `rlk_benchbenchbe_${randomBytes(24).toString("base64url")}`;
export const AUTH = { authorization: `Bearer ${ADMIN_KEY}` };
export const JSON_AUTH = { ...AUTH, "content-type": "application/json" };

/** Nanoseconds the process's main thread has run on a CPU, and waited in a run queue for one. */
function schedstat(pid: number): { run: number; wait: number } {
  const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, "utf8").trim().split(" ").map(Number);
  return { run: run!, wait: wait! };
}

/** Bytes the process has caused to be written to storage (page-cache writeback counts), from /proc/<pid>/io. */
function storageWriteBytes(pid: number): number {
  const match = /^write_bytes:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
  return match === null ? NaN : Number(match[1]);
}

/** The scheduler state of the process's main thread: R running/runnable, S sleeping, D waiting on disk I/O. */
function threadState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.charAt(stat.lastIndexOf(")") + 2);
}

/** Busy share of all CPUs over `ms`: other load on the machine skews every figure. */
async function machineBusy(ms: number): Promise<number> {
  const a = machineCpu();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = machineCpu();
  return (b.busy - a.busy) / Math.max(0.001, b.total - a.total);
}

/**
 * Waits, up to QUIET_WAIT_MS, until the machine is under 10% busy for three seconds in a
 * row; returns the last reading. Other processes (tests, other benchmarks) share the two
 * cores with the server and the load generator.
 */
export async function waitQuiet(maxWaitMs: number): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  let quiet = 0;
  let busy = await machineBusy(1_000);
  while (Date.now() < deadline) {
    quiet = busy < 0.1 ? quiet + 1 : 0;
    if (quiet >= 3) return busy;
    if (quiet === 0) console.error(`waiting for a quiet machine: ${pct(busy)} busy`);
    busy = await machineBusy(1_000);
  }
  return busy;
}

// ---------------------------------------------------------------------------------------
// Load: one autocannon run, with every response's latency kept (autocannon's own
// histogram has 1 ms resolution; these are sub-millisecond).

export interface LoadSpec {
  base: string;
  method: "GET" | "POST" | "PATCH";
  path: string;
  body?: string;
  /** A fresh path for every request (each call is one request). */
  nextPath?: () => string;
  /** Exactly this many requests; otherwise `seconds`. */
  amount?: number;
  seconds?: number;
  onBody?: (status: number, body: string) => void;
  /** Requests per second, sent on a fixed schedule (bench/steady-load.ts); unset, autocannon's connections each send as soon as they have an answer. */
  rate?: number;
  /** A process whose CPU use over the run is reported. */
  pid?: number;
}

export interface Measured {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  statuses: Record<string, number>;
  serverCpu: number;
  /** CPU seconds the server used over the run. */
  serverCpuSeconds: number;
  /** Share of the run the server's main thread spent runnable but waiting for a CPU. */
  serverRunq: number;
  /** Share of samples (every ~2 ms) that found the server's main thread waiting on disk I/O (state D). */
  serverDisk: number;
  /** Bytes the server wrote to storage per request (WAL frames, checkpoints). */
  diskBytesPerRequest: number;
  loadCpu: number;
  /** CPUs' worth of time used by everything else on the machine during the run. */
  otherCpu: number;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

export async function load(spec: LoadSpec): Promise<Measured> {
  const request: autocannon.Request = {
    method: spec.method,
    path: spec.path,
    headers: spec.body === undefined ? AUTH : JSON_AUTH,
    ...(spec.body === undefined ? {} : { body: spec.body }),
  };
  const nextPath = spec.nextPath;
  if (nextPath !== undefined) request.setupRequest = (req) => ({ ...req, path: nextPath() });
  const onBody = spec.onBody;
  if (onBody !== undefined) request.onResponse = (status, body) => onBody(status, body);

  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const serverCpu0 = spec.pid === undefined ? 0 : cpuSeconds(spec.pid);
  const loadCpu0 = process.cpuUsage();
  const machine0 = machineCpu();
  const sched0 = spec.pid === undefined ? undefined : schedstat(spec.pid);
  const written0 = spec.pid === undefined ? NaN : storageWriteBytes(spec.pid);
  const states = { total: 0, disk: 0 };
  const sampler =
    spec.pid === undefined
      ? undefined
      : setInterval(() => {
          try {
            const state = threadState(spec.pid!);
            states.total++;
            if (state === "D") states.disk++;
          } catch {
            // the process ended; the run will fail on its own
          }
        }, 2);
  const t0 = process.hrtime.bigint();
  let lastResponse = t0;
  const record = (status: number, ms: number) => {
    lastResponse = process.hrtime.bigint();
    latencies.push(ms);
    statuses[status] = (statuses[status] ?? 0) + 1;
  };
  let errors: number;
  if (spec.rate !== undefined) {
    const { rate } = spec;
    ({ errors } = await steadyLoad(
      { method: spec.method, path: nextPath ?? (() => spec.path), headers: request.headers!, ...(spec.body === undefined ? {} : { body: spec.body }) },
      {
        base: spec.base,
        rate,
        count: spec.amount ?? Math.round(rate * (spec.seconds ?? DURATION_S)),
        connections: CONNECTIONS,
        onResponse: (status, ms, body) => {
          record(status, ms);
          onBody?.(status, body);
        },
      },
    ));
  } else {
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon(
        {
          url: spec.base,
          connections: CONNECTIONS,
          timeout: 10,
          // autocannon notices the end of a run (all of `amount` answered, or the duration
          // over) only on its sampling tick; the default 1 s tick would leave the server idle
          // for up to a second inside the measured time.
          sampleInt: 10,
          requests: [request],
          ...(spec.amount === undefined ? { duration: spec.seconds ?? DURATION_S } : { amount: spec.amount }),
        },
        (error, res) => (error ? reject(error) : resolve(res)),
      );
      instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => record(status, ms));
    });
    errors = result.errors + result.timeouts;
  }
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  // Throughput over the time requests were being answered; the CPU shares over the whole call.
  const seconds = Number(lastResponse - t0) / 1e9;
  if (sampler !== undefined) clearInterval(sampler);
  const sched1 = spec.pid === undefined ? undefined : schedstat(spec.pid);
  const written = spec.pid === undefined ? NaN : storageWriteBytes(spec.pid) - written0;
  const loadCpuUsed = process.cpuUsage(loadCpu0);
  const machineBusySeconds = machineCpu().busy - machine0.busy;
  const serverCpuSeconds = spec.pid === undefined ? 0 : cpuSeconds(spec.pid) - serverCpu0;
  const loadCpuSeconds = (loadCpuUsed.user + loadCpuUsed.system) / 1e6;
  const sorted = Float64Array.from(latencies).sort();
  const non2xx = Object.entries(statuses).reduce((n, [status, count]) => (status.startsWith("2") ? n : n + count), 0);
  return {
    requests: latencies.length,
    seconds,
    rps: latencies.length / seconds,
    p50: sorted.length > 0 ? percentile(sorted, 50) : NaN,
    p99: sorted.length > 0 ? percentile(sorted, 99) : NaN,
    non2xx,
    errors,
    statuses,
    serverCpu: spec.pid === undefined ? NaN : serverCpuSeconds / elapsed,
    serverCpuSeconds: spec.pid === undefined ? NaN : serverCpuSeconds,
    serverRunq: sched0 === undefined || sched1 === undefined ? NaN : (sched1.wait - sched0.wait) / 1e9 / elapsed,
    serverDisk: states.total === 0 ? NaN : states.disk / states.total,
    diskBytesPerRequest: written / Math.max(1, latencies.length),
    loadCpu: loadCpuSeconds / elapsed,
    otherCpu: Math.max(0, machineBusySeconds - serverCpuSeconds - loadCpuSeconds) / elapsed,
  };
}

/**
 * Warm-up (discarded), then the measured run, after waiting for a quiet machine. A run
 * during which other processes used more than NOISE_LIMIT of a CPU is measured again, up
 * to ATTEMPTS times; the last attempt is kept either way and its "other CPU" is reported.
 */
export async function measure(label: string, spec: Omit<LoadSpec, "seconds" | "amount">): Promise<Measured> {
  await load({ ...spec, seconds: WARMUP_S });
  return retryWhenNoisy(label, () => load({ ...spec, seconds: DURATION_S }));
}

export async function retryWhenNoisy(label: string, run: () => Promise<Measured>): Promise<Measured> {
  for (let attempt = 1; ; attempt++) {
    await waitQuiet(QUIET_WAIT_MS / 3);
    const m = await run();
    if (m.otherCpu <= NOISE_LIMIT || attempt === ATTEMPTS) {
      report(label, m);
      return m;
    }
    console.error(`  ${label}: other processes used ${pct(m.otherCpu)} of a CPU during the run; measuring again`);
  }
}

function report(label: string, m: Measured): void {
  console.error(
    `  ${label}: ${fmt(m.rps)} req/s over ${m.seconds.toFixed(1)} s, p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms, ` +
      `statuses ${JSON.stringify(m.statuses)}, errors ${m.errors}, server CPU ${pct(m.serverCpu)} (+${pct(m.serverRunq)} waiting for a CPU, ${pct(m.serverDisk)} in disk wait, ${kb(m.diskBytesPerRequest)} written to disk per request), load generator CPU ${pct(m.loadCpu)}, everything else ${pct(m.otherCpu)}`,
  );
}

export function fmt(value: number, digits = 0): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function pct(share: number): string {
  return Number.isNaN(share) ? "—" : `${Math.round(share * 100)}%`;
}

export function kb(bytes: number): string {
  if (Number.isNaN(bytes)) return "—";
  return bytes < 1024 ? `${Math.round(bytes)} B` : `${(bytes / 1024).toFixed(1)} KB`;
}
