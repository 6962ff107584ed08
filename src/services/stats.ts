import type { Actor, StatsBucket, StatsGroupBy } from "../core/model.js";
import type { Distribution, RunStats, RunStatsReport } from "../core/reports.js";
import { checkQuery } from "../core/input.js";
import { RUN_STATUSES } from "../core/run-lifecycle.js";
import { RunStatsSchema } from "../core/schemas/runs.js";
import type { StatsRow } from "../store/repos/run-stats.js";
import type { Store } from "../store/store.js";
import { parseRunFilter, type RunListQuery } from "./run-filters.js";

export interface RunStatsQuery extends Omit<RunListQuery, "before" | "after" | "limit" | "order" | "order_by" | "ascending" | "duration_percentile"> {
  group_by?: StatsGroupBy | null;
  bucket?: StatsBucket | null;
}

export type { Distribution, RunStats, RunStatsReport } from "../core/reports.js";

export class RunStatsService {
  constructor(private readonly store: Store) {}

  /**
   * Counts, error rate, duration and TTFT percentiles (nearest rank), token totals, steps
   * per run and the most used tools, over the runs the list filters select. With group_by
   * the same figures per agent, status, stop reason or model (a run counts under every model
   * its steps used); with bucket, per minute, hour or day of created_at.
   */
  async stats(actor: Actor, input: RunStatsQuery = {}): Promise<RunStatsReport> {
    const { group_by, bucket, ...filters } = checkQuery(RunStatsSchema, input);
    const groupBy = group_by ?? undefined;
    const bucketBy = bucket ?? undefined;
    const filter = parseRunFilter(filters);
    const stats = this.store.read.stats;
    // Independent reads: on PostgreSQL they run at once, on two pooled connections.
    const [{ summary, groups }, topTools] = await Promise.all([
      stats.report(actor.organization_id, filter, groupBy, bucketBy),
      stats.topTools(actor.organization_id, filter, 10),
    ]);
    return {
      summary: summary === undefined ? emptyStats() : present(summary),
      groups: groups.map((row) => ({
        ...(groupBy === undefined ? {} : { group: row.group }),
        ...(bucketBy === undefined ? {} : { bucket: row.bucket! }),
        ...present(row),
      })),
      top_tools: topTools,
    };
  }
}

function present(row: StatsRow): RunStats {
  const ended = row.by_status.completed! + row.by_status.failed! + row.by_status.cancelled!;
  const distribution = (d: StatsRow["duration"]): Distribution => ({
    avg: d.count === 0 ? null : Math.round(d.sum / d.count),
    p50: d.p50,
    p95: d.p95,
    p99: d.p99,
    max: d.max,
  });
  return {
    runs: row.runs,
    by_status: row.by_status,
    error_rate: ended === 0 ? 0 : Math.round((row.by_status.failed! / ended) * 10_000) / 10_000,
    duration_ns: distribution(row.duration),
    ttft_ns: distribution(row.ttft),
    tokens: row.tokens,
    steps: { total: row.steps.total, avg_per_run: row.runs === 0 ? 0 : Math.round((row.steps.total / row.runs) * 100) / 100, max: row.steps.max },
  };
}

function emptyStats(): RunStats {
  const none: Distribution = { avg: null, p50: null, p95: null, p99: null, max: null };
  return {
    runs: 0,
    by_status: Object.fromEntries(RUN_STATUSES.map((status) => [status, 0])),
    error_rate: 0,
    duration_ns: none,
    ttft_ns: none,
    tokens: { prompt: 0, completion: 0, total: 0, cached_input: 0, cache_write: 0, reasoning: 0 },
    steps: { total: 0, avg_per_run: 0, max: 0 },
  };
}
