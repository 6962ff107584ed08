/**
 * Prometheus metrics of one server. The server creates them with their own registry, so two
 * servers in one process never share counters; the ledger's domain code reports into them
 * through the Telemetry interface (core/telemetry.ts), the server records HTTP latency, and
 * gauges of stored state (runs by status, active runs) are read at scrape time, at most every
 * few seconds.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { ACTIVE_STATUSES, RUN_STATUSES, type RunStatus, type StopReason } from "../core/run-lifecycle.js";
import type { RetentionKind, Telemetry, WebhookOutcome } from "../core/telemetry.js";
import type { SseTelemetry } from "../http/sse.js";

const STATE_TTL_MS = 5_000;

export class ServerMetrics implements Telemetry, SseTelemetry {
  readonly registry = new Registry();
  private readonly transitions = new Counter({
    name: "runledger_run_transitions_total",
    help: "Run status transitions, by the status entered",
    labelNames: ["status"] as const,
    registers: [this.registry],
  });
  private readonly webhookAttempts = new Counter({
    name: "runledger_webhook_attempts_total",
    help: "Webhook delivery attempts, by outcome (delivered, retry, dead)",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  private readonly webhookLag = new Histogram({
    name: "runledger_webhook_lag_seconds",
    help: "Time from a webhook becoming due to its attempt starting",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly reaperActions = new Counter({
    name: "runledger_reaper_actions_total",
    help: "Runs failed by the liveness reaper, by reason",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  private readonly retentionActions = new Counter({
    name: "runledger_retention_deleted_runs_total",
    help: "Runs deleted by the retention sweeper, by kind (expired, purged)",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: "runledger_http_request_duration_seconds",
    help: "HTTP request latency by method, route and status code",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly runsByStatus = new Gauge({
    name: "runledger_runs",
    help: "Stored runs by status (all organizations)",
    labelNames: ["status"] as const,
    registers: [this.registry],
  });
  private readonly activeRuns = new Gauge({ name: "runledger_active_runs", help: "Runs in created or running (all organizations)", registers: [this.registry] });
  private readonly openStreams = new Gauge({ name: "runledger_sse_streams", help: "Event streams open on this process", registers: [this.registry] });
  private readonly slowReaders = new Counter({
    name: "runledger_sse_slow_reader_disconnects_total",
    help: "Event streams dropped because their reader took nothing of a full RUNLEDGER_STREAM_BUFFER for RUNLEDGER_STREAM_STALL_TIMEOUT",
    registers: [this.registry],
  });
  private readonly bufferPeak = new Gauge({
    name: "runledger_sse_buffer_peak_bytes",
    help: "The most bytes any event stream of this process has held unsent, since it started",
    registers: [this.registry],
  });
  private readonly refusals = new Counter({
    name: "runledger_limit_refusals_total",
    help: "Requests answered 429, by limit (rate, streams)",
    labelNames: ["limit"] as const,
    registers: [this.registry],
  });
  private peakBuffered = 0;
  private stateReadAt = 0;

  /** `readRunCounts` reads the stored runs by status when a scrape finds the gauges stale. */
  constructor(private readonly readRunCounts: () => Promise<Partial<Record<RunStatus, number>>>) {
    collectDefaultMetrics({ register: this.registry, prefix: "runledger_process_" });
  }

  runTransition(status: RunStatus): void {
    this.transitions.inc({ status });
  }

  webhookAttempt(outcome: WebhookOutcome, lagSeconds: number): void {
    this.webhookAttempts.inc({ outcome });
    this.webhookLag.observe(lagSeconds);
  }

  runReaped(reason: StopReason): void {
    this.reaperActions.inc({ reason });
  }

  runsDeleted(kind: RetentionKind, count: number): void {
    this.retentionActions.inc({ kind }, count);
  }

  httpRequest(method: string, route: string, statusCode: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status_code: String(statusCode) }, seconds);
  }

  streamOpened(): void {
    this.openStreams.inc();
  }

  streamClosed(): void {
    this.openStreams.dec();
  }

  slowReaderClosed(): void {
    this.slowReaders.inc();
  }

  streamBuffered(bytes: number): void {
    if (bytes <= this.peakBuffered) return;
    this.peakBuffered = bytes;
    this.bufferPeak.set(bytes);
  }

  streamRefused(): void {
    this.refusals.inc({ limit: "streams" });
  }

  rateLimited(): void {
    this.refusals.inc({ limit: "rate" });
  }

  /** The exposition text, with the state gauges refreshed if stale. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    if (Date.now() - this.stateReadAt > STATE_TTL_MS) {
      const counts = await this.readRunCounts();
      this.runsByStatus.reset();
      for (const status of RUN_STATUSES) if (counts[status] !== undefined) this.runsByStatus.set({ status }, counts[status]);
      this.activeRuns.set(ACTIVE_STATUSES.reduce((sum, status) => sum + (counts[status] ?? 0), 0));
      this.stateReadAt = Date.now();
    }
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
