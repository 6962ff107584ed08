/**
 * The reaper's query: which active runs have outlived a liveness limit, and which one.
 * A run's own ttl_s / max_duration_s / heartbeat_timeout_s wins over the server default;
 * a NULL limit (no per-run value, check disabled on the server) propagates NULL through the
 * date arithmetic and never matches. When several limits are past, the first of expired,
 * timed_out, heartbeat_lost is reported: a run that never started is best described as
 * expired, and a fixed duration limit is a firmer reason than a missed heartbeat.
 */
import type { Dialect, Executor, SqlParam } from "../executor.js";

export type LivenessReason = "expired" | "timed_out" | "heartbeat_lost";

/** Server-wide limits in whole seconds; null turns that check off for runs without their own. */
export interface LivenessDefaults {
  ttlS: number | null;
  maxDurationS: number | null;
  heartbeatTimeoutS: number | null;
}

/** A position in runs_active_all, where a sweep's next window starts. */
export interface ActiveKey {
  status: string;
  created_at: string;
  id: string;
}

export interface OverdueRun {
  id: string;
  organization_id: string;
  reason: LivenessReason;
  /** The limit that was passed, in seconds (the run's own or the server default). */
  limit_s: number;
}

export class LivenessRepo {
  constructor(private readonly db: Executor, private readonly dialect: Dialect) {}

  /**
   * The next `window` active runs across every organization after `after`, in the order of
   * runs_active_all (status, created_at, id): the overdue ones among them, and the key to
   * read on from (undefined after the last window). A sweep reads window after window, so no
   * single statement walks every active run.
   */
  async scan(now: string, defaults: LivenessDefaults, window: number, after?: ActiveKey): Promise<{ overdue: OverdueRun[]; next: ActiveKey | undefined }> {
    const from = after === undefined ? "" : " AND (r.status, r.created_at, r.id) > (?, ?, ?)";
    const { sql, params } = this.query(now, defaults, `${from} ORDER BY r.status, r.created_at, r.id LIMIT ?`, true);
    const rows = await this.db.all(sql, [...params, ...(after === undefined ? [] : [after.status, after.created_at, after.id]), window]);
    const last = rows.at(-1);
    return {
      overdue: rows.filter((row) => row.reason !== null && row.reason !== undefined).map(toOverdue),
      next: last === undefined || rows.length < window ? undefined : { status: last.status as string, created_at: last.created_at as string, id: last.id as string },
    };
  }

  /** The same test for one run, for re-checking it under its row lock. */
  async check(organizationId: string, id: string, now: string, defaults: LivenessDefaults): Promise<OverdueRun | undefined> {
    const { sql, params } = this.query(now, defaults, " AND r.id = ? AND r.organization_id = ?");
    const row = await this.db.get(sql, [...params, id, organizationId]);
    return row && toOverdue(row);
  }

  /** `tail` ends the inner SELECT of active runs; `everyRow` keeps the runs that are not overdue (reason NULL). */
  private query(now: string, defaults: LivenessDefaults, tail: string, everyRow = false): { sql: string; params: SqlParam[] } {
    const past = (column: string, seconds: string) => `${this.dialect.plusSeconds(column, seconds)} < ?`;
    // Status literals, not parameters, so both planners match the partial index of active runs.
    const sql = `SELECT id, organization_id, status, created_at, reason,
         CASE reason WHEN 'expired' THEN ttl_s WHEN 'timed_out' THEN max_duration_s ELSE heartbeat_timeout_s END AS limit_s
       FROM (
         SELECT id, organization_id, status, created_at, ttl_s, max_duration_s, heartbeat_timeout_s,
           CASE
             WHEN status = 'created' AND ${past("created_at", "ttl_s")} THEN 'expired'
             WHEN ${past("created_at", "max_duration_s")} THEN 'timed_out'
             WHEN ${past("COALESCE(last_heartbeat_at, created_at)", "heartbeat_timeout_s")} THEN 'heartbeat_lost'
           END AS reason
         FROM (
           SELECT r.id, r.organization_id, r.status, r.created_at, r.last_heartbeat_at,
             COALESCE(r.ttl_s, CAST(? AS INTEGER)) AS ttl_s,
             COALESCE(r.max_duration_s, CAST(? AS INTEGER)) AS max_duration_s,
             COALESCE(r.heartbeat_timeout_s, CAST(? AS INTEGER)) AS heartbeat_timeout_s
           FROM runs r
           WHERE r.status IN ('created', 'running') AND r.deleted_at IS NULL${tail}
         ) active
       ) due${everyRow ? "" : " WHERE reason IS NOT NULL"}`;
    return { sql, params: [now, now, now, defaults.ttlS, defaults.maxDurationS, defaults.heartbeatTimeoutS] };
  }
}

function toOverdue(row: Record<string, unknown>): OverdueRun {
  return {
    id: row.id as string,
    organization_id: row.organization_id as string,
    reason: row.reason as LivenessReason,
    limit_s: Number(row.limit_s),
  };
}
