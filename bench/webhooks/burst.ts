/**
 * Burst: BURST runs with callback_url are created and set running, then completed as fast
 * as COMPLETERS concurrent callers can while the dispatcher sends (each completion's time =
 * when runs.update resolved, just after its commit). Throughput = BURST / (last receipt −
 * first completion); it cannot exceed the completion rate, shown beside it. Latency =
 * receipt − completion, queueing behind the backlog included.
 *
 *   npx tsx bench/webhooks/burst.ts [--quick] [--sqlite-only | --postgres-only] [--concurrency=N] [--in-process]
 *
 * Alone it measures one dispatcher in this process at each concurrency (16 / 32 / 64, or the
 * one given), and on PostgreSQL also (unless --in-process), at the highest, two dispatcher
 * ledgers in this process and two dispatcher processes (bench/webhooks/dispatcher-child.ts)
 * with this one only completing runs and receiving.
 */
import { CpuWindow, isEntry, runMain, sleep, watchdog } from "../proc.js";
import { fmt, hasFlag } from "../stats.js";
import { log, table } from "./report.js";
import {
  type Backend,
  BACKENDS,
  BURST,
  COMPLETERS,
  completeAll,
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

export const CONCURRENCIES = QUICK ? [16, 64] : [16, 32, 64];

export async function burst(backend: Backend, concurrency: number, mode: Dispatch): Promise<Outcome> {
  const db = await freshDb(backend, mode === "2 ledgers in-process" ? 2 : 1);
  const receiver = await startReceiver();
  const errors: unknown[] = [];
  try {
    const ids = await runningRuns(db, receiver.url, BURST);
    const stop = await startDispatch(db, mode, concurrency, errors);
    const window = new CpuWindow([]);
    const completedAt = await completeAll(db, ids);
    await waitReceipts(receiver, ids, 60_000);
    const other = otherLoad(window);
    await sleep(200);
    await stop();
    const result = outcome(`burst, ${mode}, concurrency ${concurrency}`, backend, ids, completedAt, receiver, await countAttempts(db), errors.length);
    result.otherLoad = other;
    return result;
  } finally {
    await receiver.close();
    await db.dispose();
  }
}

/**
 * One dispatcher in this process at each of `concurrencies`, then (PostgreSQL) the other
 * setups at `spread`, or else at the concurrency that delivered fastest. Returns the
 * outcomes and that best concurrency.
 */
export async function bursts(
  backend: Backend,
  concurrencies: readonly number[],
  spread?: number,
  inProcessOnly = false,
): Promise<{ outcomes: Outcome[]; best: number }> {
  const outcomes: Outcome[] = [];
  let best = concurrencies[0]!;
  let bestRate = 0;
  for (const concurrency of concurrencies) {
    const o = await burst(backend, concurrency, "in-process");
    log(o);
    outcomes.push(o);
    if (o.delivered === o.n && o.perSecond > bestRate) {
      bestRate = o.perSecond;
      best = concurrency;
    }
  }
  if (backend === "postgres" && !inProcessOnly) {
    for (const mode of ["2 ledgers in-process", "2 processes"] as const) {
      const o = await burst(backend, spread ?? best, mode);
      log(o);
      outcomes.push(o);
    }
  }
  return { outcomes, best };
}

export function burstSection(outcomes: readonly Outcome[]): string {
  return `### Burst: ${fmt(BURST)} runs completed by ${COMPLETERS} concurrent callers while the dispatcher sends\n\n${table(outcomes)}`;
}

if (isEntry(import.meta.url)) {
  watchdog((QUICK ? 10 : 30) * 60_000, "webhook burst bench");
  runMain(async () => {
    const given = process.argv.some((a) => a.startsWith("--concurrency=")) ? [flagValue("concurrency", 16)] : CONCURRENCIES;
    const outcomes: Outcome[] = [];
    for (const backend of BACKENDS) outcomes.push(...(await bursts(backend, given, Math.max(...given), hasFlag("--in-process"))).outcomes);
    console.log(burstSection(outcomes));
  });
}
