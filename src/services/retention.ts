import { InvalidArgumentError } from "../core/errors.js";
import type { Actor } from "../core/model.js";
import { TERMINAL_STATUSES, type TerminalStatus } from "../core/run-lifecycle.js";
import { nowIso } from "../core/time.js";
import { isPlainObject, optionalInteger, rejectUnknownFields, requireObject } from "../core/validate.js";
import type { RetentionPolicy } from "../store/repos/retention.js";
import type { Store } from "../store/store.js";
import { requireAdmin } from "./access.js";
import { audit } from "./audit.js";

export interface RetentionPolicyInput {
  terminal_days?: number | null;
  status_days?: Partial<Record<TerminalStatus, number>> | null;
  soft_deleted_grace_days?: number | null;
}

const MAX_DAYS = 36_500;

/** Per-organization retention policies (admin). The retention sweeper applies them. */
export class RetentionService {
  constructor(private readonly store: Store) {}

  /** The organization's policy; by default nothing is deleted except soft-deleted runs after the server's grace period. */
  async get(actor: Actor): Promise<RetentionPolicy> {
    requireAdmin(actor);
    return (await this.store.read.retention.get(actor.organization_id)) ?? { terminal_days: null, status_days: {}, soft_deleted_grace_days: null, updated_at: "" };
  }

  /** Replaces the policy. */
  async set(actor: Actor, input: RetentionPolicyInput): Promise<RetentionPolicy> {
    requireAdmin(actor);
    rejectUnknownFields(requireObject(input, "the retention policy"), ["terminal_days", "status_days", "soft_deleted_grace_days"], "a retention policy");
    const statusDays: Partial<Record<TerminalStatus, number>> = {};
    if (input.status_days != null) {
      if (!isPlainObject(input.status_days)) throw new InvalidArgumentError("status_days must be an object like {\"failed\": 90}");
      for (const [status, days] of Object.entries(input.status_days)) {
        if (!(TERMINAL_STATUSES as readonly string[]).includes(status)) {
          throw new InvalidArgumentError(`status_days: '${status}' is not a terminal status; use ${TERMINAL_STATUSES.join(", ")}`);
        }
        statusDays[status as TerminalStatus] = optionalInteger(days, `status_days.${status}`, 1, MAX_DAYS)!;
      }
    }
    const policy: RetentionPolicy = {
      terminal_days: optionalInteger(input.terminal_days, "terminal_days", 1, MAX_DAYS) ?? null,
      status_days: statusDays,
      soft_deleted_grace_days: optionalInteger(input.soft_deleted_grace_days, "soft_deleted_grace_days", 0, MAX_DAYS) ?? null,
      updated_at: nowIso(),
    };
    await this.store.transaction(async (tx) => {
      await tx.retention.put(actor.organization_id, policy);
      await audit(tx, actor, "retention_policy.set", { details: { ...policy } });
    });
    return policy;
  }
}
