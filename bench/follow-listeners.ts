/**
 * A direct check of one finding of bench/streams.ts: how many "abort" listeners a live
 * follower (events/follow.ts followRun) leaves on its stream's AbortSignal as it waits
 * for events. In-memory SQLite, one running run, one follower with a 20 ms fallback poll
 * (the server's is 2 s), counted with node:events getEventListeners while idle and after
 * 100 writes.
 *
 *   npx tsx bench/follow-listeners.ts
 */
import { getEventListeners } from "node:events";
import { openLedger } from "../src/ledger.js";
import { markdownTable } from "./stats.js";

const ledger = await openLedger({ url: "sqlite::memory:" });
const org = await ledger.organizations.createTrusted("listeners");
const actor = { organization_id: org.id, role: "write" as const };
const agent = await ledger.agents.create(actor, { name: "listeners" });
const run = await ledger.runs.create(actor, { agent_id: agent.id });
await ledger.runs.update(actor, run.id, { status: "running" });

// The warning Node prints past 10 listeners is expected here; keep stderr quiet.
process.removeAllListeners("warning");
const stop = new AbortController();
const events = await ledger.feeds.followRun(actor, run.id, 0, { signal: stop.signal, pollIntervalMs: 20 });
const consumed = (async () => {
  for await (const _event of events) {
    // drain
  }
})();
const count = () => getEventListeners(stop.signal, "abort").length;
const rows: (string | number)[][] = [];
const started = performance.now();
for (const at of [100, 500, 1_000, 2_000]) {
  await new Promise((resolve) => setTimeout(resolve, at - (performance.now() - started)));
  rows.push([`idle ${at} ms`, count()]);
}
for (let i = 0; i < 100; i++) await ledger.messages.append(actor, run.id, [{ message_type: "assistant_message", content: String(i) }]);
await new Promise((resolve) => setTimeout(resolve, 50));
rows.push(["then 100 message appends", count()]);
stop.abort();
await consumed;
rows.push(["after the follower stopped", count()]);
await ledger.close();
console.log(markdownTable(["follower state (poll 20 ms)", "abort listeners on its signal"], rows));
