/**
 * A webhook dispatcher alone in its own process, for the webhook benchmarks: opens a ledger
 * on the URL, dispatches with the given concurrency, says "ready" over IPC, and stops on
 * SIGTERM (or when the parent goes away).
 *
 *   (forked) bench/webhooks/dispatcher-child.ts <database url> <concurrency>
 */
import { openLedger } from "../../src/ledger.js";
import { AddressGuard } from "../../src/webhooks/address-guard.js";
import { WebhookDispatcher } from "../../src/webhooks/dispatcher.js";
import { storeOf } from "../../src/store/store.js";

const [url, concurrency] = process.argv.slice(2);
const ledger = await openLedger({ url: url!, webhookAllowlist: ["127.0.0.1"], migrate: false });
const dispatcher = new WebhookDispatcher(storeOf(ledger), ledger.bus, {
  guard: new AddressGuard(["127.0.0.1"]),
  retryScheduleMs: [200, 500, 1_000],
  timeoutMs: 5_000,
  concurrency: Number(concurrency),
  onError: (error) => console.error("dispatcher child:", error),
});
dispatcher.start();
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await dispatcher.stop();
  await ledger.close();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("disconnect", () => void stop());
process.send!("ready");
