/**
 * Drain: BURST runs completed while no dispatcher runs, then one starts — the dispatcher's
 * own rate, with its claim transactions counted (WebhookRepo.claimDue wrapped in setup.ts)
 * and the CPU of this process and of PostgreSQL's processes. With --profile, one more drain
 * under the V8 CPU profiler (node:inspector, this process), written to
 * bench/profiles/webhooks-drain-<backend>.cpuprofile and summarized by
 * bench/cpuprofile-summary.ts.
 *
 *   npx tsx bench/webhooks/drain.ts [--quick] [--profile] [--sqlite-only | --postgres-only] [--concurrency=N]
 *
 * Alone it drains three times per backend at the given concurrency (64 unless given), and
 * on PostgreSQL also with a pool of 30.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import { summarizeProfile } from "../cpuprofile-summary.js";
import { CpuWindow, isEntry, ROOT, runMain, sleep, watchdog } from "../proc.js";
import { fmt, hasFlag } from "../stats.js";
import { backendName, log, table } from "./report.js";
import {
  type Backend,
  BACKENDS,
  BURST,
  claims,
  completeAll,
  countAttempts,
  cpuShares,
  cpuSnapshot,
  dispatcherFor,
  flagValue,
  freshDb,
  otherLoad,
  outcome,
  type Outcome,
  QUICK,
  runningRuns,
  startReceiver,
  waitReceipts,
} from "./setup.js";

export const PROFILE = hasFlag("--profile");

export async function drain(backend: Backend, concurrency: number, profile: boolean, poolSize?: number): Promise<{ outcome: Outcome; profileFile?: string }> {
  const db = await freshDb(backend, 1, poolSize);
  const receiver = await startReceiver();
  const errors: unknown[] = [];
  try {
    const ids = await runningRuns(db, receiver.url, BURST);
    await completeAll(db, ids);
    await sleep(500);
    let session: Session | undefined;
    if (profile) {
      session = new Session();
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: 200 });
      await session.post("Profiler.start");
    }
    const started = performance.now();
    const window = new CpuWindow([]);
    const cpu0 = cpuSnapshot();
    claims.calls = 0;
    claims.rows = 0;
    const dispatcher = dispatcherFor(db.ledgers[0]!, concurrency, errors);
    dispatcher.start();
    await waitReceipts(receiver, ids, 60_000);
    const seconds = (performance.now() - started) / 1000;
    const shares = cpuShares(cpu0, cpuSnapshot(), seconds);
    const other = otherLoad(window);
    const claimCalls = claims.calls;
    const claimRows = claims.rows;
    const startedAt = new Map(ids.map((id) => [id, started]));
    let profileFile: string | undefined;
    if (session !== undefined) {
      const { profile: cpuProfile } = await session.post("Profiler.stop");
      session.disconnect();
      const dir = join(ROOT, "bench", "profiles");
      mkdirSync(dir, { recursive: true });
      profileFile = join(dir, `webhooks-drain-${backend}.cpuprofile`);
      writeFileSync(profileFile, JSON.stringify(cpuProfile));
    }
    await dispatcher.stop();
    const pool = backend === "postgres" ? `, pool ${poolSize ?? 10}` : "";
    const result = outcome(`drain of ${fmt(BURST)} queued deliveries, concurrency ${concurrency}${pool}`, backend, ids, startedAt, receiver, await countAttempts(db), errors.length, false);
    result.otherLoad = other;
    result.detail =
      `${fmt(claimCalls)} claim transactions for ${fmt(claimRows)} deliveries (${fmt(claimRows / Math.max(1, claimCalls), 1)} per claim, empty ones included); ` +
      `CPU: this process (dispatcher + receiver) ${fmt(shares.self * 100)}% of a core` +
      (backend === "postgres" ? `, PostgreSQL server processes ${fmt(shares.postgres * 100)}%` : "") +
      (profile ? " (while profiling)" : "");
    return { outcome: result, profileFile };
  } finally {
    await receiver.close();
    await db.dispose();
  }
}

/** `repetitions` drains at `concurrency` (pool 10), then on PostgreSQL one with a pool of 30, then a profiled one with --profile. */
export async function drains(backend: Backend, concurrency: number, repetitions: number): Promise<{ outcomes: Outcome[]; profiled: Outcome[]; profiles: string[] }> {
  const outcomes: Outcome[] = [];
  const profiled: Outcome[] = [];
  const profiles: string[] = [];
  const variants: (number | undefined)[] = [...Array<undefined>(repetitions).fill(undefined), ...(backend === "postgres" ? [30] : [])];
  for (const poolSize of variants) {
    const d = await drain(backend, concurrency, false, poolSize);
    log(d.outcome);
    outcomes.push(d.outcome);
  }
  if (PROFILE) {
    const d = await drain(backend, concurrency, true);
    log(d.outcome);
    profiled.push(d.outcome);
    if (d.profileFile !== undefined) profiles.push(d.profileFile);
  }
  return { outcomes, profiled, profiles };
}

export function drainSection(outcomes: readonly Outcome[], profiled: readonly Outcome[], profiles: readonly string[]): string {
  const out = ["### Outbox drain alone (runs completed first, then one dispatcher starts; latency = from its start)", "", table(outcomes), ""];
  for (const d of outcomes) if (d.detail) out.push(`- ${backendName(d.backend)}: ${d.detail}`);
  for (const d of profiled) out.push(`- ${backendName(d.backend)}, profiled drain: ${fmt(d.perSecond)} deliveries/s; ${d.detail}`);
  for (const file of profiles) out.push("", `### CPU profile of the drain (${file.replace(`${ROOT}/`, "")})`, "", summarizeProfile(file));
  return out.join("\n");
}

if (isEntry(import.meta.url)) {
  watchdog((QUICK ? 5 : 20) * 60_000, "webhook drain bench");
  runMain(async () => {
    const concurrency = flagValue("concurrency", 64);
    const all = { outcomes: [] as Outcome[], profiled: [] as Outcome[], profiles: [] as string[] };
    for (const backend of BACKENDS) {
      const d = await drains(backend, concurrency, QUICK ? 1 : 3);
      all.outcomes.push(...d.outcomes);
      all.profiled.push(...d.profiled);
      all.profiles.push(...d.profiles);
    }
    console.log(drainSection(all.outcomes, all.profiled, all.profiles));
  });
}
