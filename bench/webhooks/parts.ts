/**
 * Parts: the pieces of one attempt timed alone, PARTS_OPS of each at concurrency
 * PARTS_CONCURRENCY: the HTTP POST as the dispatcher sends it (a WebhookSender, connections
 * kept alive per origin) against one new connection per POST (`send`, how every attempt was
 * sent before); the signing-secret lookup in its own transaction (once per attempt before,
 * once per claimed batch now) against the bare SELECT; the claim transaction.
 *
 *   npx tsx bench/webhooks/parts.ts [--quick] [--sqlite-only | --postgres-only]
 */
import { storeOf } from "../../src/store/store.js";
import { send, WebhookSender } from "../../src/webhooks/sender.js";
import { liveSecrets } from "../../src/webhooks/service.js";
import { isEntry, runMain, watchdog } from "../proc.js";
import { fmt, markdownTable, runWorkers, summarize } from "../stats.js";
import { type Backend, BACKENDS, freshDb, GUARD, QUICK, startReceiver } from "./setup.js";

export const PARTS_OPS = QUICK ? 300 : 3_000;
export const PARTS_CONCURRENCY = 32;

export interface Part {
  backend: string;
  part: string;
  perSecond: number;
  p50: number;
  p99: number;
}

async function timeOps(label: string, backend: string, op: () => Promise<unknown>): Promise<Part> {
  for (let i = 0; i < 100; i++) await op();
  const latencies: number[] = [];
  const t0 = performance.now();
  await runWorkers(PARTS_OPS, PARTS_CONCURRENCY, async () => {
    const s = performance.now();
    await op();
    latencies.push(performance.now() - s);
  });
  const seconds = (performance.now() - t0) / 1000;
  const s = summarize(latencies);
  return { backend, part: label, perSecond: PARTS_OPS / seconds, p50: s.p50, p99: s.p99 };
}

/** The database parts on `backend`, and with `http` the HTTP ones (which need no database). */
export async function parts(backend: Backend, http: boolean): Promise<Part[]> {
  const out: Part[] = [];
  const receiver = await startReceiver();
  const db = await freshDb(backend);
  try {
    const body = JSON.stringify({ type: "run.completed", run_id: "run-00000000-0000-4000-8000-000000000000", status: "completed" });
    const headers = { "webhook-id": "delivery-x", "webhook-timestamp": "0", "webhook-signature": "v1,x" };
    if (http) {
      const sender = new WebhookSender(GUARD, { maxSocketsPerOrigin: PARTS_CONCURRENCY });
      out.push(await timeOps("HTTP POST as sent (WebhookSender: connections kept alive per origin)", "–", () => sender.send(receiver.url, headers, body, 5_000)));
      sender.close();
      out.push(await timeOps("HTTP POST on a new connection each (send(); every attempt before)", "–", () => send(receiver.url, headers, body, GUARD, 5_000)));
    }
    const store = storeOf(db.ledgers[0]!);
    const org = db.actor.organization_id;
    out.push(await timeOps("secret lookup in a transaction (liveSecrets; per attempt before, per batch now)", backend, () => store.transaction((tx) => liveSecrets(tx, org))));
    out.push(await timeOps("the same SELECT without a transaction (comparison)", backend, () => store.read.webhooks.getSecrets(org)));
    out.push(
      await timeOps("claim transaction (claimDue, empty outbox)", backend, () =>
        store.transaction((tx) => tx.webhooks.claimDue(new Date().toISOString(), new Date(Date.now() + 11_000).toISOString(), 32)),
      ),
    );
    return out;
  } finally {
    await receiver.close();
    await db.dispose();
  }
}

export function partsSection(rows: readonly Part[]): string {
  return (
    `### The pieces of one attempt, timed alone (${fmt(PARTS_OPS)} ops at concurrency ${PARTS_CONCURRENCY})\n\n` +
    markdownTable(["backend", "operation", "ops/s", "p50 ms", "p99 ms"], rows.map((p) => [p.backend, p.part, fmt(p.perSecond), fmt(p.p50, 2), fmt(p.p99, 2)]))
  );
}

if (isEntry(import.meta.url)) {
  watchdog((QUICK ? 5 : 10) * 60_000, "webhook parts bench");
  runMain(async () => {
    const rows: Part[] = [];
    for (const [i, backend] of BACKENDS.entries()) rows.push(...(await parts(backend, i === 0)));
    console.log(partsSection(rows));
  });
}
