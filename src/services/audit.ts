/**
 * The audit trail: every write through the services records who did it (the API key, or
 * none for in-process callers and the system's own workers), what, to which run and when —
 * in the same transaction as the write. Heartbeats are not recorded: they change nothing a
 * person audits, and would drown everything else.
 */
import { hostname } from "node:os";
import { requireId } from "../core/ids.js";
import type { Actor } from "../core/model.js";
import { nowIso, parseTimestamp } from "../core/time.js";
import { checkQuery } from "../core/input.js";
import { AuditListSchema } from "../core/schemas/admin.js";
import { LIMITS } from "../core/validate.js";
import type { Repos } from "../store/repos.js";
import type { AuditEntry } from "../store/repos/audit.js";
import type { Store } from "../store/store.js";
import { requireAdmin } from "./access.js";

/** How background workers name this process in their audit entries: host and pid. */
export function defaultInstance(): string {
  return `${hostname()}:${process.pid}`;
}

export async function audit(
  tx: Repos,
  actor: Actor | { organization_id: string; api_key_id?: undefined },
  action: string,
  refs: { run_id?: string | null; target_id?: string | null; details?: Record<string, unknown> | null } = {},
): Promise<void> {
  await tx.audit.record(actor.organization_id, {
    api_key_id: actor.api_key_id ?? null,
    action,
    run_id: refs.run_id ?? null,
    target_id: refs.target_id ?? null,
    details: refs.details ?? null,
    created_at: nowIso(),
  });
}

export interface AuditQuery {
  action?: string | null;
  run_id?: string | null;
  api_key_id?: string | null;
  since?: string | null;
  until?: string | null;
  /** The id of the last entry of the previous page. */
  before?: number | null;
  limit?: number | null;
}

export class AuditService {
  constructor(private readonly store: Store) {}

  /** The organization's audit trail, newest first (admin). */
  async list(actor: Actor, input: AuditQuery = {}): Promise<AuditEntry[]> {
    requireAdmin(actor);
    const query = checkQuery(AuditListSchema, input);
    const filter = {
      action: query.action,
      run_id: query.run_id == null ? undefined : requireId("run", query.run_id, "run_id"),
      api_key_id: query.api_key_id == null ? undefined : requireId("key", query.api_key_id, "api_key_id"),
      since: query.since == null ? undefined : parseTimestamp(query.since, "since"),
      until: query.until == null ? undefined : parseTimestamp(query.until, "until"),
    };
    const before = query.before;
    const limit = query.limit ?? LIMITS.pageDefault;
    return this.store.read.audit.list(actor.organization_id, filter, before, limit);
  }
}
