/**
 * The reaper's query: which active runs have outlived a liveness limit, and which one.
 * A run's own ttl_s / max_duration_s / heartbeat_timeout_s wins over the server default;
 * a NULL limit (no per-run value, check disabled on the server) propagates NULL through the
 * date arithmetic and never matches. When several limits are past, the first of expired,
 * timed_out, heartbeat_lost is reported: a run that never started is best described as
 * expired, and a fixed duration limit is a firmer reason than a missed heartbeat.
 */
import { ACTIVE_STATUSES } from "../../core/run-lifecycle.js";
import type { Dialect, Executor, SqlParam } from "../executor.js";

export type LivenessReason = "expired" | "timed_out" | "heartbeat_lost";

/** Server-wide limits in whole seconds; null turns that check off for runs without their own. */
export interface LivenessDefaults {
  ttlS: number | null;
  maxDurationS: number | null;
  heartbeatTimeoutS: number | null;
}

/** Written into the SQL, not bound: only the partial index's own predicate lets the planner use runs_active_all. */
const ACTIVE_LITERALS = ACTIVE_STATUSES.map((status) => `'${status}'`).join(", ");

/** A position in runs_active_all, where a sweep's next window starts: a status, and the last run read in it. */
export interface ActiveKey {
  status: (typeof ACTIVE_STATUSES)[number];
  after?: { created_at: string; id: string };
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
   * The next `window` active runs across every organization from `from` on, in the order of
   * runs_active_all (status, created_at, id): the overdue ones among them, and where to read
   * on (undefined after the last window). Each window is one range read of the index, so a
   * sweep reads every active run once, a window at a time, and no statement walks them all.
   */
  async scan(now: string, defaults: LivenessDefaults, window: number, from: ActiveKey = { status: ACTIVE_STATUSES[0] }): Promise<{ overdue: OverdueRun[]; next: ActiveKey | undefined }> {
    const keyset = from.after === undefined ? "" : " AND (r.created_at, r.id) > (?, ?)";
    // The status as a literal equality: the planner then reads the index from the cursor on.
    const { sql, params } = this.query(now, defaults, ` AND r.status = '${from.status}'${keyset} ORDER BY r.created_at, r.id LIMIT ?`, true);
    const rows = await this.db.all(sql, [...params, ...(from.after === undefined ? [] : [from.after.created_at, from.after.id]), window]);
    const last = rows.at(-1);
    const following = ACTIVE_STATUSES[ACTIVE_STATUSES.indexOf(from.status) + 1];
    let next: ActiveKey | undefined;
    if (last !== undefined && rows.length === window) next = { status: from.status, after: { created_at: last.created_at as string, id: last.id as string } };
    else if (following !== undefined) next = { status: following };
    return { overdue: rows.filter((row) => row.reason !== null && row.reason !== undefined).map(toOverdue), next };
  }

  /** The same test for one run, for re-checking it under its row lock. */
  async check(organizationId: string, id: string, now: string, defaults: LivenessDefaults): Promise<OverdueRun | undefined> {
    const { sql, params } = this.query(now, defaults, " AND r.id = ? AND r.organization_id = ?");
    const row = await this.db.get(sql, [...params, id, organizationId]);
    return row && toOverdue(row);
  }

  /** `tail` ends the inner SELECT of active runs; `everyRow` keeps the runs that are not overdue (reason NULL). */
  private query(now: string, defaults: LivenessDefaults, tail: string, everyRow = false): { sql: string; params: SqlParam[] } {
    // A run on the server's limit is compared with one precomputed instant (now minus the
    // limit), a plain comparison; only a run with its own limit needs date arithmetic.
    const past = (column: string, own: string) => `(CASE WHEN ${own} IS NULL THEN ${column} < ? ELSE ${this.dialect.plusSeconds(column, own)} < ? END)`;
    const before = (seconds: number | null) => (seconds === null ? null : new Date(Date.parse(now) - seconds * 1_000).toISOString());
    // Status literals, not parameters, so both planners match the partial index of active runs.
    const sql = `SELECT id, organization_id, created_at, reason,
         CASE reason WHEN 'expired' THEN ttl_s WHEN 'timed_out' THEN max_duration_s ELSE heartbeat_timeout_s END AS limit_s
       FROM (
         SELECT id, organization_id, created_at, ttl_s, max_duration_s, heartbeat_timeout_s,
           CASE
             WHEN status = 'created' AND ${past("created_at", "own_ttl_s")} THEN 'expired'
             WHEN ${past("created_at", "own_max_duration_s")} THEN 'timed_out'
             WHEN ${past("COALESCE(last_heartbeat_at, created_at)", "own_heartbeat_timeout_s")} THEN 'heartbeat_lost'
           END AS reason
         FROM (
           SELECT r.id, r.organization_id, r.status, r.created_at, r.last_heartbeat_at,
             r.ttl_s AS own_ttl_s, r.max_duration_s AS own_max_duration_s, r.heartbeat_timeout_s AS own_heartbeat_timeout_s,
             COALESCE(r.ttl_s, CAST(? AS INTEGER)) AS ttl_s,
             COALESCE(r.max_duration_s, CAST(? AS INTEGER)) AS max_duration_s,
             COALESCE(r.heartbeat_timeout_s, CAST(? AS INTEGER)) AS heartbeat_timeout_s
           FROM runs r
           WHERE r.status IN (${ACTIVE_LITERALS}) AND r.deleted_at IS NULL${tail}
         ) active
       ) due${everyRow ? "" : " WHERE reason IS NOT NULL"}`;
    return {
      sql,
      params: [
        before(defaults.ttlS), now,
        before(defaults.maxDurationS), now,
        before(defaults.heartbeatTimeoutS), now,
        defaults.ttlS, defaults.maxDurationS, defaults.heartbeatTimeoutS,
      ],
    };
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
