/**
 * Webhook delivery, every scenario: deliveries per second to a local receiver, and latency
 * from a run's terminal transition (its commit) to the receiver getting the POST.
 *
 *   npx tsx bench/webhooks.ts [--quick] [--profile] [--sqlite-only | --postgres-only]
 *
 * Per backend: bursts at concurrency 16 / 32 / 64 (bench/webhooks/burst.ts; on PostgreSQL
 * also two dispatcher ledgers and two dispatcher processes at the best); the steady rate at
 * the best concurrency (steady.ts; on PostgreSQL also two processes); one drain at the best,
 * and on PostgreSQL at 64 with a pool of 10 and of 30 (drain.ts; --profile adds a profiled
 * one); the parts of one attempt (parts.ts). Each scenario also runs alone; the setup they
 * share is in bench/webhooks/setup.ts.
 *
 * "unrelated CPU" is what other processes on the machine (not PostgreSQL, not the
 * dispatcher children) used meanwhile, as a share of one core.
 */
import { runMain, watchdog } from "./proc.js";
import { fmt, summarize } from "./stats.js";
import { bursts, burstSection, CONCURRENCIES } from "./webhooks/burst.js";
import { drain, drainSection, PROFILE } from "./webhooks/drain.js";
import { type Part, parts, partsSection } from "./webhooks/parts.js";
import { log } from "./webhooks/report.js";
import { type Backend, BACKENDS, BURST, type Outcome, QUICK } from "./webhooks/setup.js";
import { steadies, steadySection, STEADY_RATE, STEADY_S } from "./webhooks/steady.js";

const TARGET_P50_MS = 50;
const TARGET_RATE = 1_000;

watchdog((QUICK ? 10 : 40) * 60_000, "webhooks bench");

async function main(): Promise<void> {
  console.error(`webhooks bench${QUICK ? " (quick)" : ""}: burst ${BURST}, steady ${STEADY_RATE}/s × ${STEADY_S} s`);
  const burstOutcomes: Outcome[] = [];
  const steadyOutcomes: Outcome[] = [];
  const drains: Outcome[] = [];
  const profiledDrains: Outcome[] = [];
  const partRows: Part[] = [];
  const profiles: string[] = [];
  const best: Partial<Record<Backend, number>> = {};

  for (const [i, backend] of BACKENDS.entries()) {
    const b = await bursts(backend, CONCURRENCIES);
    burstOutcomes.push(...b.outcomes);
    best[backend] = b.best;
    steadyOutcomes.push(...(await steadies(backend, b.best)));
    const variants: [number, number | undefined][] = backend === "postgres" ? [[b.best, undefined], [64, 10], [64, 30]] : [[b.best, undefined]];
    for (const [concurrency, poolSize] of variants.filter(([c, pool], k) => k === 0 || !(c === b.best && pool === 10))) {
      const d = await drain(backend, concurrency, false, poolSize);
      log(d.outcome);
      drains.push(d.outcome);
    }
    if (PROFILE) {
      const d = await drain(backend, b.best, true);
      log(d.outcome);
      profiledDrains.push(d.outcome);
      if (d.profileFile !== undefined) profiles.push(d.profileFile);
    }
    partRows.push(...(await parts(backend, i === 0)));
  }

  const out: string[] = [];
  out.push(burstSection(burstOutcomes), "");
  out.push(`Best concurrency: ${Object.entries(best).map(([backend, c]) => `${backend === "sqlite" ? "SQLite" : "PostgreSQL"} ${c}`).join(", ")} (used below).`, "");
  out.push(steadySection(steadyOutcomes), "");
  out.push(drainSection(drains, profiledDrains, profiles), "");
  out.push(partsSection(partRows), "");
  const pgSteady = steadyOutcomes.find((s) => s.backend === "postgres");
  const pgBursts = burstOutcomes.filter((b) => b.backend === "postgres");
  const pgBest = pgBursts.reduce((a, b) => (b.perSecond > a.perSecond ? b : a), pgBursts[0]!);
  const pgDrain = drains.find((d) => d.backend === "postgres");
  if (pgSteady && pgBest && pgDrain) {
    const p50 = summarize(pgSteady.latencies).p50;
    const rate = Math.max(pgBest.perSecond, pgDrain.perSecond);
    out.push(
      `Target (PostgreSQL): p50 < ${TARGET_P50_MS} ms at a modest rate — ${fmt(p50, 1)} ms, ${p50 < TARGET_P50_MS ? "met" : "missed"}; ` +
        `≥ ${fmt(TARGET_RATE)} deliveries/s — best burst ${fmt(pgBest.perSecond)}/s (${pgBest.label}), drain alone ${fmt(pgDrain.perSecond)}/s: ` +
        `${rate >= TARGET_RATE ? "met" : "missed"}.`,
    );
  }
  console.log(out.join("\n"));
}

runMain(main);
