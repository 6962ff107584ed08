/**
 * The machine's floor for event-loop delay: an idle Node process that only measures its own
 * loop delay (same histogram and resolution as prom-client's default metrics). Asked over
 * IPC, it answers the p99 since the last question (ms) and starts a new window. A server's
 * delay above this floor is the server's own; up to it, it is the machine's CPU contention.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";

const histogram = monitorEventLoopDelay({ resolution: 10 });
histogram.enable();

process.on("message", () => {
  const p99Ms = histogram.percentile(99) / 1e6;
  histogram.reset();
  process.send!({ p99Ms });
});
process.on("disconnect", () => process.exit(0));
