/**
 * The statistics of a whole organization, unfiltered — as a summary, or per status — read
 * from single tables and along indexes instead of a pass over runs ⋈ run_metrics:
 *
 * - counts by status, token totals and steps from run_metrics alone, which carries its
 *   run's status (soft-deleted runs are left out by id, through the partial index on
 *   runs.deleted_at);
 * - the count, sum and maximum of duration and of TTFT from the partial indexes that hold
 *   each organization's values (runs_org_duration and runs_org_ttft, per status
 *   runs_org_status_duration and runs_org_status_ttft), without reading a run's row;
 * - the percentiles by rank along the same indexes: the value at rank k = ⌈p·n/100⌉ of the
 *   n values is one read at an offset, counted from whichever end of the index is nearer,
 *   so p50, p95 and p99 of a column walk 0.56·n entries between them and sort nothing.
 */
import type { RunStatus } from "../../core/run-lifecycle.js";
import type { Executor, SqlParam } from "../executor.js";
import { METRIC_SUMS, PERCENTILES, statusCounts, valueSums } from "./run-stats-sql.js";
import { type Row, statsRow, type StatsRow } from "./run-stats-rows.js";

export type RankedColumn = "total_duration_ns" | "ttft_ns";

/** The runs whose values are ranked: the organization's, or one status's of them, with how many have each value. */
export interface RankedGroup {
  status?: RunStatus;
  durationCount: number;
  ttftCount: number;
}

/** run_metrics rows of runs that are not soft-deleted; binds the organization id (the partial index runs_deleted finds the others). */
export const NOT_DELETED = "m.id NOT IN (SELECT d.id FROM runs d WHERE d.organization_id = ? AND d.deleted_at IS NOT NULL)";

const COLUMNS: readonly { column: RankedColumn; prefix: "duration" | "ttft" }[] = [
  { column: "total_duration_ns", prefix: "duration" },
  { column: "ttft_ns", prefix: "ttft" },
];

export class IndexedStats {
  constructor(private readonly db: Executor) {}

  /** The counts and sums of every run of the organization (`g` null), or of each status (`g` the status) that has runs. */
  async sums(organizationId: string, byStatus: boolean): Promise<Row[]> {
    const group = byStatus ? "m.status" : "NULL";
    const reads = [
      this.db.all(
        `SELECT ${group} AS g, count(*) AS runs, ${statusCounts("m.status")}, ${METRIC_SUMS}
         FROM run_metrics m WHERE m.organization_id = ? AND ${NOT_DELETED}${byStatus ? " GROUP BY m.status" : ""}`,
        [organizationId, organizationId],
      ),
      ...COLUMNS.map(({ column, prefix }) =>
        this.db.all(
          `SELECT ${byStatus ? "r.status" : "NULL"} AS g, ${valueSums(`r.${column}`, prefix)}
           FROM runs r WHERE r.organization_id = ? AND r.deleted_at IS NULL AND r.${column} IS NOT NULL${byStatus ? " GROUP BY r.status" : ""}`,
          [organizationId],
        ),
      ),
    ];
    // Independent reads: on PostgreSQL they run at once, on pooled connections.
    const [metrics, ...values] = await Promise.all(reads);
    const byGroup = new Map(metrics!.filter((row) => Number(row.runs) > 0).map((row) => [row.g ?? null, { ...row }]));
    for (const rows of values) for (const row of rows) Object.assign(byGroup.get(row.g ?? null) ?? {}, row);
    return [...byGroup.values()];
  }

  /** Every status's statistics, in status order, for the statuses that have runs. */
  async byStatus(organizationId: string): Promise<StatsRow[]> {
    const sums = (await this.sums(organizationId, true)).sort((x, y) => (String(x.g) < String(y.g) ? -1 : 1));
    const groups = sums.map((row) => ({ status: row.g as RunStatus, durationCount: Number(row.duration_count ?? 0), ttftCount: Number(row.ttft_count ?? 0) }));
    const picks = await this.percentiles(organizationId, groups);
    return sums.map((row, i) => statsRow(row, (kind, p) => picks[i]![kind][PERCENTILES.indexOf(p as (typeof PERCENTILES)[number])]));
  }

  /**
   * The nearest-rank percentiles of duration (`d`) and TTFT (`t`) of each group, in one
   * statement: a read by rank per value, each a walk along the group's index from its
   * nearer end.
   */
  async percentiles(organizationId: string, groups: readonly RankedGroup[]): Promise<{ d: (number | null)[]; t: (number | null)[] }[]> {
    const reads: string[] = [];
    const params: SqlParam[] = [];
    const slots = groups.map((group) => {
      const slot = { d: [] as (number | undefined)[], t: [] as (number | undefined)[] };
      for (const { column, prefix } of COLUMNS) {
        const count = prefix === "duration" ? group.durationCount : group.ttftCount;
        for (const p of PERCENTILES) {
          if (count === 0) {
            slot[prefix === "duration" ? "d" : "t"].push(undefined);
            continue;
          }
          const rank = Math.floor((count * p + 99) / 100);
          const fromTop = count - rank < rank - 1;
          reads.push(
            `(SELECT r.${column} FROM runs r WHERE r.organization_id = ?${group.status === undefined ? "" : " AND r.status = ?"}
              AND r.deleted_at IS NULL AND r.${column} IS NOT NULL ORDER BY r.${column}${fromTop ? " DESC" : ""} LIMIT 1 OFFSET ?) AS v${reads.length}`,
          );
          params.push(organizationId, ...(group.status === undefined ? [] : [group.status]), fromTop ? count - rank : rank - 1);
          slot[prefix === "duration" ? "d" : "t"].push(reads.length - 1);
        }
      }
      return slot;
    });
    const row = reads.length === 0 ? {} : ((await this.db.get(`SELECT ${reads.join(",\n  ")}`, params)) ?? {});
    const value = (index: number | undefined) => {
      const found = index === undefined ? null : row[`v${index}`];
      return found === null || found === undefined ? null : Number(found);
    };
    return slots.map((slot) => ({ d: slot.d.map(value), t: slot.t.map(value) }));
  }
}
