/**
 * What the per-key rate limit costs a request. Two servers in this process on one SQLite
 * database: one without a limit (the default: no hook is installed) and one with a limit
 * no request reaches (every request takes a token and gets the RateLimit-* headers).
 * `GET /v1/runs/{id}` through `app.inject` (no network, so the limit's share is as large as
 * it can be), ROUNDS rounds of BATCH requests, alternating the two servers round by round so
 * that both see the same machine load; reported per request, with the ratio limited/off.
 * Then `TokenBuckets.take` alone, over 1,000 keys.
 *
 *   npx tsx bench/rate-limit.ts [--quick]
 */
import { buildServer } from "../src/http/server.js";
import { TokenBuckets } from "../src/http/rate-limit.js";
import { openLedger } from "../src/ledger.js";
import { fmt, hasFlag, markdownTable, summarize } from "./stats.js";

const QUICK = hasFlag("--quick");
const ROUNDS = QUICK ? 10 : 40;
const BATCH = 500;

const ledger = await openLedger({ url: "sqlite::memory:" });
const boot = (await ledger.apiKeys.bootstrap())!;
const actor = { organization_id: boot.organization.id, role: "admin" as const };
const agent = await ledger.agents.create(actor, { name: "bench" });
const run = await ledger.runs.create(actor, { agent_id: agent.id });

const off = await buildServer({ ledger, authCacheMs: 60_000 });
const limited = await buildServer({ ledger, authCacheMs: 60_000, limits: { rate: { requests: 1_000_000_000, periodMs: 1_000, burst: 1_000_000_000 } } });
const request = { method: "GET" as const, url: `/v1/runs/${run.id}`, headers: { authorization: `Bearer ${boot.key.key}` } };

async function round(app: typeof off): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < BATCH; i++) {
    const response = await app.inject(request);
    if (response.statusCode !== 200) throw new Error(`unexpected ${response.statusCode}: ${response.body}`);
  }
  return Number(process.hrtime.bigint() - start) / 1e3 / BATCH;
}

// Warm-up: JIT, statement cache, auth cache.
for (let i = 0; i < 3; i++) {
  await round(off);
  await round(limited);
}
const perRequest = { off: [] as number[], limited: [] as number[] };
for (let r = 0; r < ROUNDS; r++) {
  const [first, second] = r % 2 === 0 ? (["off", "limited"] as const) : (["limited", "off"] as const);
  perRequest[first].push(await round(first === "off" ? off : limited));
  perRequest[second].push(await round(second === "off" ? off : limited));
}
const offStats = summarize(perRequest.off);
const limitedStats = summarize(perRequest.limited);
const ratios = perRequest.off.map((o, i) => perRequest.limited[i]! / o).sort((a, b) => a - b);

const buckets = new TokenBuckets({ requests: 1_000_000_000, periodMs: 1_000, burst: 1_000_000_000 });
const TAKES = 2_000_000;
const t0 = process.hrtime.bigint();
for (let i = 0; i < TAKES; i++) buckets.take(`key-${i % 1_000}`);
const takeNs = Number(process.hrtime.bigint() - t0) / TAKES;

console.log(`rate limit bench${QUICK ? " (quick)" : ""}: ${ROUNDS} alternating rounds of ${BATCH} GET /v1/runs/{id} per server, app.inject, SQLite in memory\n`);
console.log(
  markdownTable(
    ["server", "µs/request p50 of rounds", "min", "max"],
    [
      ["no limit (default)", fmt(offStats.p50, 1), fmt(Math.min(...perRequest.off), 1), fmt(offStats.max, 1)],
      ["limit on, never reached", fmt(limitedStats.p50, 1), fmt(Math.min(...perRequest.limited), 1), fmt(limitedStats.max, 1)],
    ],
  ),
);
console.log(`\nlimited / off per round: median ${fmt(ratios[Math.floor(ratios.length / 2)]!, 3)}, min ${fmt(ratios[0]!, 3)}, max ${fmt(ratios.at(-1)!, 3)}`);
console.log(`TokenBuckets.take over 1,000 keys: ${fmt(takeNs, 0)} ns`);

await off.close();
await limited.close();
await ledger.close();
