import type { Dialect, Executor } from "../executor.js";
import { placeholders } from "../sql-values.js";
import { numberOrNull } from "./runs.js";

import type { DeliveryStatus, WebhookAttempt, WebhookDelivery } from "../../core/reports.js";

export type { DeliveryStatus, WebhookAttempt, WebhookDelivery };

export interface WebhookSecrets {
  secret: string;
  previous_secret: string | null;
  previous_expires_at: string | null;
  rotated_at: string | null;
  created_at: string;
}

const DELIVERY_COLUMNS =
  "id, run_id, organization_id, url, event_type, payload, status, attempts, next_attempt_at, last_status_code, last_error, created_at, delivered_at";

export class WebhookRepo {
  constructor(private readonly db: Executor, private readonly dialect: Dialect) {}

  async getSecrets(organizationId: string): Promise<WebhookSecrets | undefined> {
    return this.db.get<WebhookSecrets>(
      "SELECT secret, previous_secret, previous_expires_at, rotated_at, created_at FROM webhook_secrets WHERE organization_id = ?",
      [organizationId],
    );
  }

  /** Stores `secret` unless the organization has one already. */
  async insertSecret(organizationId: string, secret: string, at: string): Promise<void> {
    await this.db.run("INSERT INTO webhook_secrets (organization_id, secret, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [
      organizationId,
      secret,
      at,
    ]);
  }

  async rotateSecret(organizationId: string, secret: string, at: string, previousExpiresAt: string): Promise<void> {
    await this.db.run(
      "UPDATE webhook_secrets SET previous_secret = secret, secret = ?, previous_expires_at = ?, rotated_at = ? WHERE organization_id = ?",
      [secret, previousExpiresAt, at, organizationId],
    );
  }

  async insertDelivery(delivery: WebhookDelivery): Promise<void> {
    await this.db.run(
      `INSERT INTO webhook_deliveries (${DELIVERY_COLUMNS}) VALUES (${placeholders(13)})`,
      [
        delivery.id, delivery.run_id, delivery.organization_id, delivery.url, delivery.event_type, delivery.payload, delivery.status,
        delivery.attempts, delivery.next_attempt_at, delivery.last_status_code, delivery.last_error, delivery.created_at,
        delivery.delivered_at,
      ],
    );
  }

  /**
   * Claims up to `limit` due deliveries until `leaseUntil`: another dispatcher skips them
   * (SKIP LOCKED on PostgreSQL; SQLite has one writer), and a dispatcher that dies mid-send
   * leaves them to be claimed again once the lease runs out.
   */
  async claimDue(now: string, leaseUntil: string, limit: number): Promise<WebhookDelivery[]> {
    const rows = await this.db.all(
      `UPDATE webhook_deliveries SET locked_until = ?
       WHERE id IN (
         SELECT id FROM webhook_deliveries
         WHERE status IN ('pending', 'failed') AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until < ?)
         ORDER BY next_attempt_at LIMIT ?${this.dialect.skipLocked}
       )
       RETURNING ${DELIVERY_COLUMNS}`,
      [leaseUntil, now, now, limit],
    );
    return rows.map(toDelivery);
  }

  /** The earliest time a delivery will be due (to sleep until then). */
  async nextDueAt(): Promise<string | undefined> {
    const row = await this.db.get<{ at: string | null }>("SELECT min(next_attempt_at) AS at FROM webhook_deliveries WHERE status IN ('pending', 'failed')");
    return row?.at ?? undefined;
  }

  /**
   * Locks the delivery's run, then says whether the delivery still exists. Deleting a run
   * locks the run first and its deliveries after (by cascade), so an attempt recorded under
   * this lock never deadlocks with a delete, and never inserts its row for a delivery that a
   * delete has just removed. Soft-deleted runs count: their deliveries are still kept.
   */
  async lockForAttempt(runId: string, deliveryId: string): Promise<boolean> {
    if ((await this.db.get(`SELECT id FROM runs WHERE id = ?${this.dialect.forUpdate}`, [runId])) === undefined) return false;
    return (await this.db.get("SELECT id FROM webhook_deliveries WHERE id = ?", [deliveryId])) !== undefined;
  }

  async recordAttempt(
    deliveryId: string,
    attempt: WebhookAttempt,
    next: { status: DeliveryStatus; next_attempt_at: string; delivered_at: string | null },
  ): Promise<void> {
    await this.db.run(
      "INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)",
      [deliveryId, attempt.attempt, attempt.started_at, attempt.duration_ms, attempt.status_code, attempt.error, attempt.outcome],
    );
    await this.db.run(
      `UPDATE webhook_deliveries SET attempts = ?, status = ?, next_attempt_at = ?, delivered_at = ?, locked_until = NULL,
         last_status_code = ?, last_error = ?
       WHERE id = ?`,
      [attempt.attempt, next.status, next.next_attempt_at, next.delivered_at, attempt.status_code, attempt.error, deliveryId],
    );
  }

  async listForRun(organizationId: string, runId: string): Promise<(WebhookDelivery & { attempt_log: WebhookAttempt[] })[]> {
    const deliveries = (
      await this.db.all(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE run_id = ? AND organization_id = ? ORDER BY created_at, id`, [
        runId,
        organizationId,
      ])
    ).map(toDelivery);
    if (deliveries.length === 0) return [];
    const attempts = await this.db.all(
      `SELECT delivery_id, attempt, started_at, duration_ms, status_code, error, outcome FROM webhook_attempts
       WHERE delivery_id IN (${placeholders(deliveries.length)}) ORDER BY delivery_id, attempt`,
      deliveries.map((d) => d.id),
    );
    return deliveries.map((d) => ({
      ...d,
      attempt_log: attempts
        .filter((a) => a.delivery_id === d.id)
        .map((a) => ({
          attempt: Number(a.attempt),
          started_at: a.started_at as string,
          duration_ms: Number(a.duration_ms),
          status_code: numberOrNull(a.status_code),
          error: (a.error as string | null) ?? null,
          outcome: a.outcome as WebhookAttempt["outcome"],
        })),
    }));
  }

  /** Makes the run's latest delivery due now again (same webhook-id). */
  async redeliverLatest(organizationId: string, runId: string, now: string): Promise<WebhookDelivery | undefined> {
    const row = await this.db.get(
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, locked_until = NULL
       WHERE id = (SELECT id FROM webhook_deliveries WHERE run_id = ? AND organization_id = ? ORDER BY created_at DESC, id DESC LIMIT 1)
       RETURNING ${DELIVERY_COLUMNS}`,
      [now, runId, organizationId],
    );
    return row && toDelivery(row);
  }
}

function toDelivery(row: Record<string, unknown>): WebhookDelivery {
  return {
    id: row.id as string,
    run_id: row.run_id as string,
    organization_id: row.organization_id as string,
    url: row.url as string,
    event_type: row.event_type as string,
    payload: row.payload as string,
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    next_attempt_at: row.next_attempt_at as string,
    last_status_code: numberOrNull(row.last_status_code),
    last_error: (row.last_error as string | null) ?? null,
    created_at: row.created_at as string,
    delivered_at: (row.delivered_at as string | null) ?? null,
  };
}
