/**
 * What the ledger reports as it works — transitions, webhook attempts, reaped and deleted
 * runs — for whoever keeps figures. Domain code reports through this interface and never
 * knows who listens; a server attaches its own Prometheus metrics, so two ledgers (or two
 * servers) in one process never share counters.
 */
import type { RunStatus, StopReason } from "./run-lifecycle.js";

export type WebhookOutcome = "delivered" | "retry" | "dead";
export type RetentionKind = "expired" | "purged";

export interface Telemetry {
  runTransition(status: RunStatus): void;
  /** `lagSeconds`: from the attempt falling due to its start. */
  webhookAttempt(outcome: WebhookOutcome, lagSeconds: number): void;
  runReaped(reason: StopReason): void;
  runsDeleted(kind: RetentionKind, count: number): void;
}

/** One ledger's reports, passed on to every sink attached at the time. */
export class TelemetryHub implements Telemetry {
  private readonly sinks = new Set<Telemetry>();

  /** Returns the function that detaches the sink again. */
  attach(sink: Telemetry): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  runTransition(status: RunStatus): void {
    for (const sink of this.sinks) sink.runTransition(status);
  }

  webhookAttempt(outcome: WebhookOutcome, lagSeconds: number): void {
    for (const sink of this.sinks) sink.webhookAttempt(outcome, lagSeconds);
  }

  runReaped(reason: StopReason): void {
    for (const sink of this.sinks) sink.runReaped(reason);
  }

  runsDeleted(kind: RetentionKind, count: number): void {
    for (const sink of this.sinks) sink.runsDeleted(kind, count);
  }
}

/** For a worker that nobody watches. */
export const NO_TELEMETRY: Telemetry = {
  runTransition() {},
  webhookAttempt() {},
  runReaped() {},
  runsDeleted() {},
};
