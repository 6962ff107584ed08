/**
 * Prometheus metrics of this process. Counters are bumped where things happen (transitions,
 * webhook attempts, reaper and retention actions, HTTP requests); gauges of stored state
 * (runs by status, active runs) are read from the database at scrape time, at most every
 * few seconds.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Store } from "../store/store.js";

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: "runledger_process_" });

export const transitions = new Counter({
  name: "runledger_run_transitions_total",
  help: "Run status transitions, by the status entered",
  labelNames: ["status"] as const,
  registers: [registry],
});

export const webhookAttempts = new Counter({
  name: "runledger_webhook_attempts_total",
  help: "Webhook delivery attempts, by outcome (delivered, retry, dead)",
  labelNames: ["outcome"] as const,
  registers: [registry],
});

export const webhookLag = new Histogram({
  name: "runledger_webhook_lag_seconds",
  help: "Time from a webhook becoming due to its attempt starting",
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

export const reaperActions = new Counter({
  name: "runledger_reaper_actions_total",
  help: "Runs failed by the liveness reaper, by reason",
  labelNames: ["reason"] as const,
  registers: [registry],
});

export const retentionActions = new Counter({
  name: "runledger_retention_deleted_runs_total",
  help: "Runs deleted by the retention sweeper, by kind (expired, purged)",
  labelNames: ["kind"] as const,
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: "runledger_http_request_duration_seconds",
  help: "HTTP request latency by method, route and status code",
  labelNames: ["method", "route", "status_code"] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

const runsByStatus = new Gauge({ name: "runledger_runs", help: "Stored runs by status (all organizations)", labelNames: ["status"] as const, registers: [registry] });
const activeRuns = new Gauge({ name: "runledger_active_runs", help: "Runs in created or running (all organizations)", registers: [registry] });

const STATE_TTL_MS = 5_000;
let stateStore: Store | undefined;
let stateReadAt = 0;

/** Which database the state gauges read (the server's). */
export function observeStore(store: Store): void {
  stateStore = store;
  stateReadAt = 0;
}

/** The exposition text, with the state gauges refreshed if stale. */
export async function scrape(): Promise<{ contentType: string; body: string }> {
  if (stateStore !== undefined && Date.now() - stateReadAt > STATE_TTL_MS) {
    const rows = await stateStore.driver.all<{ status: string; n: number }>("SELECT status, count(*) AS n FROM runs WHERE deleted_at IS NULL GROUP BY status");
    runsByStatus.reset();
    let active = 0;
    for (const row of rows) {
      runsByStatus.set({ status: row.status }, Number(row.n));
      if (row.status === "created" || row.status === "running") active += Number(row.n);
    }
    activeRuns.set(active);
    stateReadAt = Date.now();
  }
  return { contentType: registry.contentType, body: await registry.metrics() };
}
