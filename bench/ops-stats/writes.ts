/**
 * What the statistics cost writers: the schema and code of migration 6 (run_metrics.status,
 * copied on every transition, and the indexes runs_org_status_duration and
 * runs_org_status_ttft) against the same without it. Each variant gets its own database
 * (a SQLite file, a PostgreSQL schema) and the same lifecycle through the ledger — create,
 * running with a TTFT, one step, completed — LIFECYCLES times by 16 concurrent callers per
 * round; rounds alternate the variants' order.
 *
 *   current   the schema and code as they are;
 *   no index  the two status indexes dropped;
 *   before    the two indexes dropped and the copy of the status on entering running
 *             skipped (the terminal transition writes run_metrics in any case), which is
 *             what a lifecycle wrote before migration 6.
 *
 *   npx tsx bench/ops-stats/writes.ts [--quick] [--sqlite-only | --postgres-only] [--lifecycles=N]
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Actor } from "../../src/core/model.js";
import type { RunStatus } from "../../src/core/run-lifecycle.js";
import { openLedger, type Ledger } from "../../src/ledger.js";
import { RunMetricsRepo } from "../../src/store/repos/run-metrics.js";
import { storeOf } from "../../src/store/store.js";
import { isEntry, onExit, runMain } from "../proc.js";
import { fmt, hasFlag, markdownTable, median, runWorkers } from "../stats.js";
import { type Backend, PG_URL, QUICK } from "./env.js";

const LIFECYCLES = Number(process.argv.find((a) => a.startsWith("--lifecycles="))?.slice("--lifecycles=".length) ?? (QUICK ? 300 : 2_000));
const ROUNDS = QUICK ? 1 : 3;
const CALLERS = 16;
const VARIANTS = ["current", "no index", "before"] as const;
type Variant = (typeof VARIANTS)[number];

// The copy of the status on entering running, skipped while `skipRunningCopy` is set.
let skipRunningCopy = false;
const recordTransition = RunMetricsRepo.prototype.recordTransition;
RunMetricsRepo.prototype.recordTransition = function (this: RunMetricsRepo, runId: string, status: RunStatus, runNs?: number) {
  if (skipRunningCopy && runNs === undefined) return Promise.resolve();
  return recordTransition.call(this, runId, status, runNs);
};

interface Subject {
  variant: Variant;
  ledger: Ledger;
  actor: Actor;
  agentId: string;
  dispose(): Promise<void>;
}

async function subject(backend: Backend, variant: Variant): Promise<Subject> {
  let url: string;
  let drop: (ledger: Ledger) => Promise<void>;
  if (backend === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "runledger-bench-writes-"));
    onExit(() => rmSync(dir, { recursive: true, force: true }));
    url = `sqlite:${join(dir, "w.db")}`;
    drop = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const schema = `bench_writes_${randomBytes(4).toString("hex")}`;
    url = `${PG_URL}?schema=${schema}`;
    drop = async (ledger) => void (await storeOf(ledger).driver.run(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  }
  const ledger = await openLedger({ url, listen: false });
  if (variant !== "current") for (const index of ["runs_org_status_duration", "runs_org_status_ttft"]) await storeOf(ledger).driver.run(`DROP INDEX ${index}`);
  const org = await ledger.organizations.createTrusted(`writes ${variant}`);
  const actor: Actor = { organization_id: org.id, role: "write" };
  const agent = await ledger.agents.create(actor, { name: "writer" });
  return {
    variant,
    ledger,
    actor,
    agentId: agent.id,
    async dispose() {
      await drop(ledger);
      await ledger.close();
    },
  };
}

/** Lifecycles per second of one round on `s`. */
async function round(s: Subject): Promise<number> {
  skipRunningCopy = s.variant === "before";
  try {
    const started = performance.now();
    await runWorkers(LIFECYCLES, CALLERS, async () => {
      const run = await s.ledger.runs.create(s.actor, { agent_id: s.agentId });
      await s.ledger.runs.update(s.actor, run.id, { status: "running", ttft_ns: 700_000_000 });
      await s.ledger.steps.record(s.actor, run.id, { model: "gpt-4o", prompt_tokens: 800, completion_tokens: 60, status: "success" });
      await s.ledger.runs.update(s.actor, run.id, { status: "completed" });
    });
    return LIFECYCLES / ((performance.now() - started) / 1000);
  } finally {
    skipRunningCopy = false;
  }
}

export async function writeCost(backend: Backend): Promise<(string | number)[][]> {
  const subjects = [] as Subject[];
  for (const variant of VARIANTS) subjects.push(await subject(backend, variant));
  try {
    const rates = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
    // A warm-up round each, then ROUNDS rounds, rotating which variant goes first.
    for (const s of subjects) await round(s);
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < subjects.length; k++) {
        const s = subjects[(r + k) % subjects.length]!;
        rates.get(s.variant)!.push(await round(s));
      }
      console.error(`  ${backend} writes, round ${r + 1}: ${VARIANTS.map((v) => `${v} ${fmt(rates.get(v)!.at(-1)!)}/s`).join(", ")}`);
    }
    const before = median(rates.get("before")!);
    return VARIANTS.map((v) => [
      backend === "sqlite" ? "SQLite" : "PostgreSQL",
      v,
      fmt(median(rates.get(v)!)),
      `${fmt(median(rates.get(v)!) / before, 2)}×`,
      rates.get(v)!.map((x) => fmt(x)).join(" / "),
    ]);
  } finally {
    for (const s of subjects) await s.dispose();
  }
}

export function writesSection(rows: readonly (string | number)[][]): string {
  return (
    `### What the statistics cost writers (${fmt(LIFECYCLES)} lifecycles per round by ${CALLERS} callers, ${ROUNDS} rounds after a warm-up)\n\n` +
    markdownTable(["backend", "variant", "lifecycles/s (median)", "÷ before", "rounds"], rows)
  );
}

if (isEntry(import.meta.url)) {
  runMain(async () => {
    const backends: Backend[] = hasFlag("--sqlite-only") ? ["sqlite"] : hasFlag("--postgres-only") ? ["postgres"] : ["sqlite", "postgres"];
    const rows: (string | number)[][] = [];
    for (const backend of backends) rows.push(...(await writeCost(backend)));
    console.log(writesSection(rows));
  });
}
