/**
 * Steady: STEADY_RATE completions per second for STEADY_S seconds, open loop — latency from
 * a completion's commit to the receipt where queueing does not dominate. A short warm-up of
 * the same path runs first, unmeasured.
 *
 *   npx tsx bench/webhooks/steady.ts [--quick] [--sqlite-only | --postgres-only] [--concurrency=N]
 *
 * Alone it measures one dispatcher in this process (concurrency 16, the server's default,
 * unless given) and, on PostgreSQL, two dispatcher processes.
 */
import { DEFAULT_WEBHOOK_CONCURRENCY } from "../../src/webhooks/dispatcher.js";
import { CpuWindow, isEntry, runMain, sleep, watchdog } from "../proc.js";
import { log, table } from "./report.js";
import {
  type Backend,
  BACKENDS,
  completePaced,
  countAttempts,
  type Dispatch,
  flagValue,
  freshDb,
  otherLoad,
  outcome,
  type Outcome,
  QUICK,
  runningRuns,
  startDispatch,
  startReceiver,
  waitReceipts,
} from "./setup.js";

export const STEADY_RATE = 100;
export const STEADY_S = QUICK ? 3 : 10;

export async function steady(backend: Backend, concurrency: number, mode: Dispatch): Promise<Outcome> {
  const db = await freshDb(backend, mode === "2 ledgers in-process" ? 2 : 1);
  const receiver = await startReceiver();
  const errors: unknown[] = [];
  try {
    const ids = await runningRuns(db, receiver.url, STEADY_RATE * STEADY_S);
    const stop = await startDispatch(db, mode, concurrency, errors);
    const warm = await runningRuns(db, receiver.url, 50);
    await completePaced(db, warm, STEADY_RATE);
    await waitReceipts(receiver, warm, 10_000);
    receiver.requests = 0;
    receiver.receipts.clear();
    const window = new CpuWindow([]);
    const completedAt = await completePaced(db, ids, STEADY_RATE);
    await waitReceipts(receiver, ids, 30_000);
    const other = otherLoad(window);
    await sleep(200);
    await stop();
    const label = `steady ${STEADY_RATE}/s for ${STEADY_S} s, ${mode}, concurrency ${concurrency}`;
    const result = outcome(label, backend, ids, completedAt, receiver, (await countAttempts(db)) - warm.length, errors.length);
    result.otherLoad = other;
    return result;
  } finally {
    await receiver.close();
    await db.dispose();
  }
}

/** One dispatcher in this process and, on PostgreSQL, two dispatcher processes. */
export async function steadies(backend: Backend, concurrency: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const mode of backend === "postgres" ? (["in-process", "2 processes"] as const) : (["in-process"] as const)) {
    const o = await steady(backend, concurrency, mode);
    log(o);
    outcomes.push(o);
  }
  return outcomes;
}

export function steadySection(outcomes: readonly Outcome[]): string {
  return `### Steady ${STEADY_RATE} completions/s for ${STEADY_S} s (completion commit → receipt)\n\n${table(outcomes)}`;
}

if (isEntry(import.meta.url)) {
  watchdog((QUICK ? 5 : 15) * 60_000, "webhook steady bench");
  runMain(async () => {
    const concurrency = flagValue("concurrency", DEFAULT_WEBHOOK_CONCURRENCY);
    const outcomes: Outcome[] = [];
    for (const backend of BACKENDS) outcomes.push(...(await steadies(backend, concurrency)));
    console.log(steadySection(outcomes));
  });
}
