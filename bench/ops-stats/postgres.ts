/**
 * Run statistics at scale on PostgreSQL (a fresh schema, populated and dropped each run):
 * `ledger.stats.stats(actor, query)` per case against hand-written SQL (bench/ops-stats/cases.ts).
 *
 *   npx tsx bench/ops-stats/postgres.ts [--quick] [--explain] [--cases=abcde]
 */
import { isEntry, runMain } from "../proc.js";
import { statsSection } from "./run.js";

if (isEntry(import.meta.url)) runMain(async () => console.log(await statsSection("postgres")));
