/**
 * PostgreSQL, two server processes A and B on one fresh schema: write → delivery latency
 * with half the subscribers on each and writes through A only (reported separately for
 * subscribers on A and on B); then cancel → producer AbortSignal, with track() over HTTP
 * against A and `POST /v1/runs/{id}/cancel` sent to B (and, for reference, to A).
 */
import { randomBytes } from "node:crypto";
import { RunledgerClient } from "../../src/client/http-client.js";
import { RunCancelledError, track } from "../../src/client/track.js";
import { openLedger } from "../../src/ledger.js";
import { storeOf } from "../../src/store/store.js";
import { sleep, startServer, stopProcess, type ServerProcess } from "../proc.js";
import { fmt, summarize } from "../stats.js";
import { ADMIN_KEY, ATTACH_WAIT_MS, BIG, call, CANCEL_REPS, CANCEL_SAME_REPS, paceWrites, PG_URL, reportOutput, runningRun, SMALL } from "./context.js";
import { measure, type Recorder } from "./measure.js";
import { attachTo, localPool, workerPool } from "./pools.js";

export interface CancelResult {
  label: string;
  latencies: number[];
  missed: number;
}

export async function postgresFanoutAndCancel(recorder: Recorder): Promise<CancelResult[]> {
  const schema = `bench_${randomBytes(5).toString("hex")}`;
  const url = `${PG_URL}?schema=${schema}`;
  const env = { DATABASE_URL: url, RUNLEDGER_ADMIN_KEY: ADMIN_KEY };
  let a: ServerProcess | undefined;
  let b: ServerProcess | undefined;
  try {
    a = await startServer(env);
    b = await startServer(env);
    const servers = [
      { label: "server A", pid: a.pid },
      { label: "server B", pid: b.pid },
    ];
    const agent = await call<{ id: string }>(a.baseUrl, "POST", "/v1/agents", { name: "streams bench" });

    console.error("postgres: warm-up");
    const warmRun = await runningRun(a.baseUrl, agent.id);
    const wa = localPool("A", 64);
    const wb = localPool("B", 64);
    await attachTo([
      { pool: wa, url: `${a.baseUrl}/v1/runs/${warmRun}/events`, count: 25 },
      { pool: wb, url: `${b.baseUrl}/v1/runs/${warmRun}/events`, count: 25 },
    ]);
    await paceWrites(a.baseUrl, warmRun, 20);
    await call(a.baseUrl, "PATCH", `/v1/runs/${warmRun}`, { status: "completed" });
    await Promise.all([wa.close(), wb.close()]);

    for (const [count, mode] of [
      [SMALL, "in-process"],
      [BIG, "in-process"],
      [BIG, "workers"],
    ] as const) {
      console.error(`postgres: ${count} subscribers (${count / 2} on A, ${count / 2} on B), ${mode}`);
      const run = await runningRun(a.baseUrl, agent.id);
      const onA = mode === "in-process" ? localPool("A", count) : await workerPool("A");
      const onB = mode === "in-process" ? localPool("B", count) : await workerPool("B");
      await attachTo([
        { pool: onA, url: `${a.baseUrl}/v1/runs/${run}/events`, count: count / 2 },
        { pool: onB, url: `${b.baseUrl}/v1/runs/${run}/events`, count: count / 2 },
      ]);
      const m = await measure(
        [
          { label: "subscribers on A", pools: [onA], subscribers: count / 2 },
          { label: "subscribers on B", pools: [onB], subscribers: count / 2 },
        ],
        a.baseUrl,
        run,
        servers,
      );
      recorder.record(
        "PostgreSQL",
        `${fmt(count)} (${fmt(count / 2)} + ${fmt(count / 2)})`,
        `2 servers, writes via A, subscribers in ${mode === "in-process" ? "bench process" : "2 worker processes (one per server)"}`,
        m,
      );
      await call(a.baseUrl, "PATCH", `/v1/runs/${run}`, { status: "completed" });
      await Promise.all([onA.close(), onB.close()]);
    }

    console.error("postgres: cancel → AbortSignal");
    await sleep(2_000);
    const cross = await cancelLatency(a.baseUrl, b.baseUrl, agent.id, CANCEL_REPS, "producer on A, cancel on B");
    const same = await cancelLatency(a.baseUrl, a.baseUrl, agent.id, CANCEL_SAME_REPS, "producer on A, cancel on A (reference)");
    return [cross, same];
  } finally {
    await Promise.all([a && stopProcess(a.child), b && stopProcess(b.child)]);
    if (a) reportOutput("server A", a);
    if (b) reportOutput("server B", b);
    const ledger = await openLedger({ url, listen: false, migrate: false });
    await storeOf(ledger).driver.run(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await ledger.close();
  }
}

async function cancelLatency(producerUrl: string, cancelUrl: string, agentId: string, reps: number, label: string): Promise<CancelResult> {
  const client = new RunledgerClient({ baseUrl: producerUrl, apiKey: ADMIN_KEY });
  const latencies: number[] = [];
  let missed = 0;
  for (let i = 0; i < reps; i++) {
    const outcome = await track(client, { agent_id: agentId }, async (run) => {
      const abortedAt = new Promise<number>((resolve) => run.signal.addEventListener("abort", () => resolve(performance.now()), { once: true }));
      // Lets track()'s status watch (an SSE request to the producer's server) attach first.
      await sleep(ATTACH_WAIT_MS);
      const t0 = performance.now();
      await call(cancelUrl, "POST", `/v1/runs/${run.id}/cancel`, {});
      const at = await Promise.race([abortedAt, sleep(5_000).then(() => undefined)]);
      if (at === undefined) missed++;
      else latencies.push(at - t0);
      return "stopped";
    }).then(
      () => "returned",
      (error: unknown) => (error instanceof RunCancelledError ? "cancelled" : String(error)),
    );
    if (outcome !== "cancelled") console.error(`  cancel rep ${i}: track() ended with ${outcome}`);
  }
  const s = latencies.length > 0 ? summarize(latencies) : undefined;
  console.error(`  ${label}: ${latencies.length}/${reps}` + (s ? ` p50 ${fmt(s.p50, 1)} p99 ${fmt(s.p99, 1)} max ${fmt(s.max, 1)} ms` : ""));
  return { label, latencies, missed };
}
