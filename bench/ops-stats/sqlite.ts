/**
 * Run statistics at scale on SQLite (a file in WAL mode, cached in bench/.data/):
 * `ledger.stats.stats(actor, query)` per case against hand-written SQL (bench/ops-stats/cases.ts).
 *
 *   npx tsx bench/ops-stats/sqlite.ts [--quick] [--rebuild] [--explain] [--cases=abcde]
 */
import { isEntry, runMain } from "../proc.js";
import { statsSection } from "./run.js";

if (isEntry(import.meta.url)) runMain(async () => console.log(await statsSection("sqlite")));
