/** One backend's statistics measurement as a markdown section, with its plans (under --explain) on stderr. */
import { fmt } from "../stats.js";
import { type Backend, postgresEnv, RUNS, sqliteEnv } from "./env.js";
import { ITERATIONS, measure, tables } from "./measure.js";

export async function statsSection(backend: Backend): Promise<string> {
  const env = backend === "sqlite" ? await sqliteEnv() : await postgresEnv();
  try {
    const { results, window, plans } = await measure(env);
    if (plans.length > 0) console.error(`\n${plans.join("\n\n")}`);
    return (
      `### ${backend === "sqlite" ? "SQLite (file, WAL)" : "PostgreSQL"}\n\n${fmt(RUNS)} runs, ${fmt(env.agentIds.length)} agents; ` +
      `day window ${window}; 1 warm-up + ${ITERATIONS} timed calls per case; times in ms` +
      `${env.populateSeconds === undefined ? " (cached database)" : `; populated in ${fmt(env.populateSeconds, 0)} s`}.\n\n${tables(results)}`
    );
  } finally {
    await env.close();
  }
}
