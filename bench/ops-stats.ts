/**
 * Run statistics at scale, every scenario: `ledger.stats.stats(actor, query)` over
 * 1,000,000 runs on SQLite (a file in WAL mode) and PostgreSQL, case by case against
 * hand-written SQL (bench/ops-stats/sqlite.ts, bench/ops-stats/postgres.ts), then what the
 * statistics' schema costs writers (bench/ops-stats/writes.ts). Each scenario also runs
 * alone; the data set is described in bench/ops-stats/env.ts, the cases and baselines in
 * bench/ops-stats/cases.ts.
 *
 *   npx tsx bench/ops-stats.ts [--quick] [--rebuild] [--sqlite-only | --postgres-only] [--explain] [--cases=abcde] [--no-writes]
 *
 * --explain prints (to stderr) the plan of every distinct statement the service issued and
 * of the "SQL + percentiles" baseline (PostgreSQL: EXPLAIN (ANALYZE, BUFFERS)); --cases=ce
 * runs only cases (c) and (e).
 */
import { statsSection } from "./ops-stats/run.js";
import type { Backend } from "./ops-stats/env.js";
import { writeCost, writesSection } from "./ops-stats/writes.js";
import { runMain } from "./proc.js";
import { hasFlag } from "./stats.js";

const BACKENDS: Backend[] = hasFlag("--sqlite-only") ? ["sqlite"] : hasFlag("--postgres-only") ? ["postgres"] : ["sqlite", "postgres"];

runMain(async () => {
  const out: string[] = [];
  for (const backend of BACKENDS) out.push(await statsSection(backend));
  if (!hasFlag("--no-writes")) {
    const rows: (string | number)[][] = [];
    for (const backend of BACKENDS) rows.push(...(await writeCost(backend)));
    out.push(writesSection(rows));
  }
  console.log(out.join("\n\n"));
});
