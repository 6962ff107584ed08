/**
 * What every streams scenario shares: the flags, the sizes, the admin key, and the HTTP
 * calls that make a running run and pace message appends at it.
 */
import { randomBytes } from "node:crypto";
import type { ServerProcess } from "../proc.js";
import { sleep } from "../proc.js";
import { clock } from "../sse-subscribers.js";
import { hasFlag } from "../stats.js";

export const QUICK = hasFlag("--quick");
export const PROFILE = hasFlag("--profile");
export const PG_URL = process.env.RUNLEDGER_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const BIG = QUICK ? 200 : 1_000;
export const SMALL = QUICK ? 50 : 100;
export const WRITES = QUICK ? 40 : 200;
export const WARMUP_WRITES = 5;
/** The sustained run: SQLite, BIG subscribers, this many writes at RATE (60 s), latency per 10 s window. */
export const SUSTAINED_WRITES = QUICK ? 200 : 1_200;
export const WINDOW_MS = 10_000;
export const RATE = 20;
export const DRAIN_MS = 10_000;
export const CANCEL_REPS = QUICK ? 10 : 50;
export const CANCEL_SAME_REPS = QUICK ? 5 : 20;
export const ATTACH_WAIT_MS = 300;
export const TARGET_P99_MS = 100;
export const TARGET_CANCEL_MS = 1_000;
/** How long the memory server holds 2 × BIG idle subscribers to watch for growth. */
export const IDLE_HOLD_MS = QUICK ? 10_000 : 60_000;

export const ADMIN_KEY = `rlk_benchstream1_${randomBytes(20).toString("hex")}`;
export const AUTH = { authorization: `Bearer ${ADMIN_KEY}` };
const JSON_AUTH = { ...AUTH, "content-type": "application/json" };

export async function call<T>(baseUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, { method, headers: body === undefined ? AUTH : JSON_AUTH, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 300)}`);
  return (text === "" ? undefined : JSON.parse(text)) as T;
}

export async function runningRun(baseUrl: string, agentId: string): Promise<string> {
  const run = await call<{ id: string }>(baseUrl, "POST", "/v1/runs", { agent_id: agentId });
  await call(baseUrl, "PATCH", `/v1/runs/${run.id}`, { status: "running" });
  return run.id;
}

/** Sends `count` writes to `writerUrl` at RATE per second (open loop); returns send→response latencies. */
export async function paceWrites(writerUrl: string, runId: string, count: number): Promise<{ latencies: number[]; errors: number }> {
  const interval = 1000 / RATE;
  const start = performance.now();
  const latencies: number[] = [];
  let errors = 0;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const sent = clock();
    inFlight.push(
      fetch(`${writerUrl}/v1/runs/${runId}/messages`, {
        method: "POST",
        headers: JSON_AUTH,
        body: JSON.stringify({ messages: [{ message_type: "assistant_message", content: String(sent) }] }),
      }).then(
        async (response) => {
          await response.arrayBuffer();
          if (response.status !== 201) errors++;
          latencies.push(clock() - sent);
        },
        () => void errors++,
      ),
    );
  }
  await Promise.all(inFlight);
  return { latencies, errors };
}

/** Says on stderr what a server printed besides inspector notices (warnings, errors). */
export function reportOutput(label: string, server: ServerProcess): void {
  const printed = server.output().split("\n").filter((line) => line.trim() !== "" && !/Debugger (listening|attached|ending)|inspector|For help, see/.test(line));
  if (printed.length > 0) console.error(`  ${label} printed ${printed.length}+ lines; last ones:\n    ${printed.slice(-5).map((l) => l.slice(0, 400)).join("\n    ")}`);
}
