/**
 * The webhook dispatcher: claims due deliveries from the outbox, signs and POSTs them, and
 * records every attempt — with the run's callback_* fields showing the latest — in one
 * transaction per attempt.
 *
 *   pending ──2xx──► delivered
 *      │  └─non-2xx / network error──► failed ──(retry when due)──► … ──schedule exhausted──► dead
 *      └──410 Gone──────────────────────────────────────────────────────────────────────────► dead
 *
 * Several processes may dispatch from one PostgreSQL database: a claim takes rows with
 * SKIP LOCKED and holds them under a lease, so no attempt is sent twice at once; a process
 * killed mid-send leaves its claims to be picked up when the lease ends (at least once —
 * receivers dedupe on webhook-id). The loop wakes on commits and at least every poll
 * interval; its errors are reported, never thrown.
 *
 * Deliveries are claimed in batches: when no more than half of `concurrency` are in
 * flight, as many as fit. The claim's transaction also reads the signing secrets of the
 * batch's organizations, once each, so a rotation is seen from the next batch on. Attempts
 * go out over kept-alive connections, a pool per origin (sender.ts).
 */
import type { EventBus } from "../events/bus.js";
import type { Store } from "../store/store.js";
import type { WebhookDelivery } from "../store/repos/webhooks.js";
import type { AddressGuard } from "./address-guard.js";
import { nextStep } from "./retry-policy.js";
import { WebhookSender } from "./sender.js";
import { signatureHeader } from "./signing.js";
import { liveSecrets } from "./service.js";
import { NO_TELEMETRY, type Telemetry } from "../core/telemetry.js";

/**
 * Deliveries in flight per process. At 16 a PostgreSQL burst of 450 completions/s queued
 * (p50 733 ms); at 64 it kept up with p50 12 ms (BENCHMARKS.md, Webhooks).
 */
export const DEFAULT_WEBHOOK_CONCURRENCY = 64;

export interface DispatcherOptions {
  guard: AddressGuard;
  retryScheduleMs: readonly number[];
  /** Per-attempt timeout. */
  timeoutMs: number;
  /** Deliveries in flight at once, per process. */
  concurrency?: number;
  /** Longest sleep between looks at the outbox. */
  pollIntervalMs?: number;
  onError?: (error: unknown) => void;
  /** Hears each attempt's outcome and lag (default: nobody). */
  telemetry?: Telemetry;
  onAttempt?: (delivery: WebhookDelivery, outcome: string, statusCode: number | undefined) => void;
}

export class WebhookDispatcher {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private pendingWake = false;
  private inFlight = 0;
  private readonly unsubscribe: () => void;
  private readonly concurrency: number;
  private readonly sender: WebhookSender;

  constructor(private readonly store: Store, bus: EventBus, private readonly options: DispatcherOptions) {
    this.concurrency = options.concurrency ?? DEFAULT_WEBHOOK_CONCURRENCY;
    this.sender = new WebhookSender(options.guard, { maxSocketsPerOrigin: this.concurrency });
    // Any commit may have enqueued a delivery; checking the outbox is one indexed query.
    this.unsubscribe = bus.subscribeAll(() => this.poke());
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops claiming, waits for attempts in flight, closes its connections. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe();
    this.poke();
    await this.loop;
    this.sender.close();
  }

  /** Looks at the outbox now. */
  poke(): void {
    this.pendingWake = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    const attempts = new Set<Promise<void>>();
    while (this.running) {
      let batch: Batch = { deliveries: [], secrets: new Map() };
      const room = this.concurrency - this.inFlight;
      try {
        if (this.inFlight <= this.concurrency / 2) batch = await this.claim(room);
      } catch (error) {
        this.options.onError?.(error);
      }
      for (const delivery of batch.deliveries) {
        this.inFlight++;
        const attempt = this.attempt(delivery, batch.secrets.get(delivery.organization_id)!)
          .catch((error: unknown) => this.options.onError?.(error))
          .finally(() => {
            this.inFlight--;
            attempts.delete(attempt);
            this.poke();
          });
        attempts.add(attempt);
      }
      // A full batch may have left more due; a short one emptied the outbox.
      if (batch.deliveries.length > 0 && batch.deliveries.length === room && this.inFlight <= this.concurrency / 2) continue;
      await this.sleep(this.options.pollIntervalMs ?? 1_000);
    }
    await Promise.all(attempts);
  }

  private async sleep(ms: number): Promise<void> {
    if (this.pendingWake) {
      this.pendingWake = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
    this.pendingWake = false;
  }

  /** Claims up to `limit` due deliveries, with the signing secrets of their organizations. */
  private claim(limit: number): Promise<Batch> {
    const now = new Date();
    // Long enough for the attempt and its bookkeeping; a dead process's claims come back after it.
    const leaseUntil = new Date(now.getTime() + 2 * this.options.timeoutMs + 1_000).toISOString();
    return this.store.transaction(async (tx) => {
      const deliveries = await tx.webhooks.claimDue(now.toISOString(), leaseUntil, limit);
      const secrets = new Map<string, string[]>();
      for (const organizationId of new Set(deliveries.map((d) => d.organization_id))) secrets.set(organizationId, await liveSecrets(tx, organizationId));
      return { deliveries, secrets };
    });
  }

  private async attempt(delivery: WebhookDelivery, secrets: readonly string[]): Promise<void> {
    const startedAt = new Date();
    const lagSeconds = Math.max(0, startedAt.getTime() - Date.parse(delivery.next_attempt_at)) / 1000;
    const timestampS = Math.floor(startedAt.getTime() / 1000);
    const headers = {
      "webhook-id": delivery.id,
      "webhook-timestamp": String(timestampS),
      "webhook-signature": signatureHeader(secrets, delivery.id, timestampS, delivery.payload),
    };
    const result = await this.sender.send(delivery.url, headers, delivery.payload, this.options.timeoutMs);
    const number = delivery.attempts + 1;
    const step = nextStep(this.options.retryScheduleMs, number, result.statusCode, result.retryAfter);
    const finishedAt = new Date();
    const error =
      result.error ?? (step.kind === "delivered" ? null : step.kind === "dead" ? `HTTP ${result.statusCode}: ${step.reason}` : `HTTP ${result.statusCode}`);
    await this.store.transaction(async (tx) => {
      // A run deleted while its webhook was in flight took its deliveries with it: the
      // attempt was made, but there is nothing left to record it on.
      if (!(await tx.webhooks.lockForAttempt(delivery.run_id, delivery.id))) return;
      await tx.webhooks.recordAttempt(
        delivery.id,
        {
          attempt: number,
          started_at: startedAt.toISOString(),
          duration_ms: result.durationMs,
          status_code: result.statusCode ?? null,
          error,
          outcome: step.kind,
        },
        {
          status: step.kind === "delivered" ? "delivered" : step.kind === "dead" ? "dead" : "failed",
          next_attempt_at: new Date(finishedAt.getTime() + (step.kind === "retry" ? step.afterMs : 0)).toISOString(),
          delivered_at: step.kind === "delivered" ? finishedAt.toISOString() : null,
        },
      );
      await tx.runs.setCallback(delivery.organization_id, delivery.run_id, {
        callback_sent_at: startedAt.toISOString(),
        callback_status_code: result.statusCode ?? null,
        callback_error: error,
      });
    });
    (this.options.telemetry ?? NO_TELEMETRY).webhookAttempt(step.kind, lagSeconds);
    this.options.onAttempt?.(delivery, step.kind, result.statusCode);
  }
}

/** Claimed deliveries and, by organization, the secrets that sign them. */
interface Batch {
  deliveries: WebhookDelivery[];
  secrets: Map<string, string[]>;
}
