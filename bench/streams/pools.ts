/**
 * Subscriber pools: raw SSE sockets in this process, or in a forked worker driven over IPC
 * (bench/sse-subscribers.ts). Both offer the same operations.
 */
import type { ChildProcess } from "node:child_process";
import { forkHelper, stopProcess } from "../proc.js";
import { clock, type PoolReport, SubscriberPool, type WorkerCommand } from "../sse-subscribers.js";
import { fmt } from "../stats.js";
import { AUTH } from "./context.js";

export interface Pool {
  label: string;
  pid: number;
  open(url: string, count: number): Promise<number>;
  ready(timeoutMs: number): Promise<boolean>;
  phase(start: number): Promise<void>;
  received(): Promise<number>;
  report(): Promise<PoolReport>;
  close(): Promise<void>;
}

export function localPool(label: string, maxSockets: number): Pool {
  const pool = new SubscriberPool(maxSockets);
  return {
    label,
    pid: process.pid,
    async open(url, count) {
      await pool.open(url, AUTH, count, 50);
      return pool.report().connected;
    },
    ready: (timeoutMs) => pool.waitReady(1, timeoutMs),
    async phase(start) {
      pool.startPhase(start);
    },
    async received() {
      return pool.received();
    },
    async report() {
      return pool.report();
    },
    async close() {
      pool.closeAll();
      await pool.waitClosed(5_000);
    },
  };
}

export async function workerPool(label: string): Promise<Pool> {
  const child: ChildProcess = forkHelper("bench/sse-subscribers.ts", ["--worker"]);
  let nextId = 0;
  const pending = new Map<number, (value: unknown) => void>();
  child.on("message", (message: { id: number; value: unknown }) => {
    pending.get(message.id)?.(message.value);
    pending.delete(message.id);
  });
  const send = <T>(command: WorkerCommand): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (value) => {
        if (value !== null && typeof value === "object" && "error" in value) reject(new Error(String((value as { error: unknown }).error)));
        else resolve(value as T);
      });
      child.send({ id, command });
    });
  // Align the worker's clock with ours: the sample with the shortest round trip wins.
  await send({ op: "clock" });
  let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
  for (let i = 0; i < 50; i++) {
    const t0 = clock();
    const tw = await send<number>({ op: "clock" });
    const t1 = clock();
    if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: (t0 + t1) / 2 - tw };
  }
  let offsetSet = false;
  return {
    label,
    pid: child.pid!,
    async open(url, count) {
      const connected = await send<number>({ op: "open", url, headers: AUTH, count, concurrency: 50 });
      if (!offsetSet) await send({ op: "offset", offsetMs: best.offset });
      offsetSet = true;
      return connected;
    },
    ready: (timeoutMs) => send<boolean>({ op: "ready", minEvents: 1, timeoutMs }),
    phase: (start) => send({ op: "phase", start }),
    received: () => send<number>({ op: "received" }),
    report: () => send<PoolReport>({ op: "report" }),
    async close() {
      await send({ op: "close" }).catch(() => {});
      await stopProcess(child, 3_000);
    },
  };
}

/** Opens the pools' subscribers on `url` and waits until each pool got its replay. */
export async function attach(pools: { pool: Pool; count: number }[], url: string): Promise<number> {
  const t0 = performance.now();
  const connected = await Promise.all(pools.map(({ pool, count }) => pool.open(url, count)));
  const ok = await Promise.all(pools.map(({ pool }) => pool.ready(30_000)));
  if (ok.includes(false)) console.error("warning: some subscribers never received the replay");
  const total = connected.reduce((a, b) => a + b, 0);
  console.error(`  attached ${total} subscribers in ${fmt(performance.now() - t0)} ms`);
  return total;
}

/** `attach` for pools that each follow their own URL, one after another. */
export async function attachTo(pools: { pool: Pool; url: string; count: number }[]): Promise<number> {
  let total = 0;
  for (const { pool, url, count } of pools) if (count > 0) total += await attach([{ pool, count }], url);
  return total;
}
