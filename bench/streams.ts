/**
 * Live streams: latency from a write to its delivery at SSE subscribers, memory per
 * subscriber, and cancel → producer AbortSignal latency.
 *
 * The server is the real thing (`node --import tsx src/main.ts serve`, LOG_LEVEL=warn) in
 * child processes. Subscribers are raw node:http sockets on `GET /v1/runs/{id}/events` of
 * one running run (bench/sse-subscribers.ts), in this process or split across 2 forked
 * worker processes. After a short warm-up, the bench sends WRITES message appends
 * (`POST /v1/runs/{id}/messages`, one assistant_message whose content is the send time in
 * epoch ms) paced at RATE per second, and every subscriber records, for each message
 * event, the time from just before the write request to the arrival of the socket chunk
 * that carried it. Latency = over all (write, subscriber) pairs; "delivered" = pairs that
 * arrived within 10 s after the last write. Every server process has the default
 * PostgreSQL pool (10) and ping interval (20 s).
 *
 * Scenarios, each in bench/streams/ and runnable alone with --only:
 *   latency   SQLite, one process (fanout-sqlite.ts)
 *   memory    SQLite memory per idle subscriber (memory-sqlite.ts)
 *   postgres  PostgreSQL fan-out over two processes, and cancel across them (postgres.ts)
 *   sqlite    latency and memory
 *
 *   npx tsx bench/streams.ts [--quick] [--profile] [--only=latency|memory|postgres|sqlite]
 *
 * --quick: 200 / 50 subscribers, 40 writes. --profile: the SQLite latency server runs under
 * `node --cpu-prof` (bench/profiles/streams-sqlite-server.cpuprofile), summarized at the end.
 *
 * RUNLEDGER_BENCH_POSTGRES_URL overrides postgres://postgres@127.0.0.1:5432/test.
 */
import { runMain, watchdog } from "./proc.js";
import { BIG, QUICK, RATE, SMALL, WRITES } from "./streams/context.js";
import { sqliteFanout } from "./streams/fanout-sqlite.js";
import { Recorder } from "./streams/measure.js";
import { sqliteMemory } from "./streams/memory-sqlite.js";
import { postgresFanoutAndCancel } from "./streams/postgres.js";
import { cancelTable, cpuTable, latencyTable, memoryTable, profileSection, sustainedTable } from "./streams/report.js";

const SCENARIOS = ["latency", "memory", "postgres"] as const;
const only = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
const selected = new Set<string>(only === undefined ? SCENARIOS : only === "sqlite" ? ["latency", "memory"] : [only]);
if (only !== undefined && only !== "sqlite" && !SCENARIOS.includes(only as never)) {
  console.error(`--only must be one of ${[...SCENARIOS, "sqlite"].join(", ")}`);
  process.exit(2);
}

watchdog((QUICK ? 10 : 40) * 60_000, "streams bench");

async function main(): Promise<void> {
  console.error(`streams bench${QUICK ? " (quick)" : ""}: ${WRITES} writes at ${RATE}/s; ${BIG} / ${SMALL} subscribers`);
  const recorder = new Recorder();
  const fanout = selected.has("latency") ? await sqliteFanout(recorder) : undefined;
  const memory = selected.has("memory") ? await sqliteMemory() : undefined;
  let cancels: Awaited<ReturnType<typeof postgresFanoutAndCancel>> = [];
  if (selected.has("postgres")) {
    try {
      cancels = await postgresFanoutAndCancel(recorder);
    } catch (error) {
      console.error(`PostgreSQL part failed: ${String(error)}`);
    }
  }

  const sections: string[] = [];
  if (recorder.latencyRows.length > 0) sections.push(latencyTable(recorder));
  if (fanout !== undefined) sections.push(sustainedTable(fanout.sustained));
  if (recorder.cpuRows.length > 0) sections.push(cpuTable(recorder));
  if (memory !== undefined) sections.push(memoryTable(memory));
  if (cancels.length > 0) sections.push(cancelTable(cancels));
  if (fanout?.profile !== undefined) sections.push(profileSection(fanout.profile));
  console.log(sections.join("\n\n"));
}

runMain(main);
