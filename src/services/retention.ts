import type { Actor } from "../core/model.js";
import type { TerminalStatus } from "../core/run-lifecycle.js";
import type { Telemetry } from "../core/telemetry.js";
import { nowIso } from "../core/time.js";
import { type RetentionCounts, RetentionSweeper } from "../workers/retention-sweeper.js";
import { checkInput } from "../core/input.js";
import { RetentionPolicySchema } from "../core/schemas/admin.js";
import type { RetentionPolicy } from "../store/repos/retention.js";
import type { Store } from "../store/store.js";
import { requireAdmin, requireSuperuser } from "./access.js";
import { audit } from "./audit.js";

export interface RetentionPolicyInput {
  terminal_days?: number | null;
  status_days?: Partial<Record<TerminalStatus, number>> | null;
  soft_deleted_grace_days?: number | null;
}

/** Per-organization retention policies (admin). The retention sweeper applies them. */
export class RetentionService {
  constructor(private readonly store: Store, private readonly telemetry: Telemetry) {}

  /** The organization's policy; by default nothing is deleted except soft-deleted runs after the server's grace period. */
  async get(actor: Actor): Promise<RetentionPolicy> {
    requireAdmin(actor);
    return (await this.store.read.retention.get(actor.organization_id)) ?? { terminal_days: null, status_days: {}, soft_deleted_grace_days: null, updated_at: "" };
  }

  /** Replaces the policy. */
  async set(actor: Actor, input: RetentionPolicyInput): Promise<RetentionPolicy> {
    requireAdmin(actor);
    const body = checkInput(RetentionPolicySchema, input);
    const policy: RetentionPolicy = {
      terminal_days: body.terminal_days ?? null,
      status_days: { ...(body.status_days as Partial<Record<TerminalStatus, number>> | null | undefined) },
      soft_deleted_grace_days: body.soft_deleted_grace_days ?? null,
      updated_at: nowIso(),
    };
    await this.store.transaction(async (tx) => {
      await tx.retention.put(actor.organization_id, policy);
      await audit(tx, actor, "retention_policy.set", { details: { ...policy } });
    });
    return policy;
  }

  /**
   * Applies every organization's policy now, as the sweeper does on its interval (superuser
   * only: it spans organizations). `onProgress` hears the running totals after every batch.
   */
  async applyAll(actor: Actor, options: { defaultGraceDays: number }, onProgress?: (counts: RetentionCounts) => void): Promise<RetentionCounts> {
    requireSuperuser(actor);
    const sweeper = new RetentionSweeper(this.store, { intervalMs: 60_000, defaultGraceDays: options.defaultGraceDays, telemetry: this.telemetry });
    return sweeper.sweep(new Date(), onProgress);
  }
}
