/**
 * The rows of the run statistics: a statement's row of counts and sums turned into a
 * StatsRow, and the sums of disjoint groups added up into the row of their union.
 */
import type { TokenTotals } from "../../core/reports.js";

export interface StatsRow {
  group: string | null;
  bucket: string | null;
  runs: number;
  by_status: Record<string, number>;
  duration: { count: number; sum: number; p50: number | null; p95: number | null; p99: number | null; max: number | null };
  ttft: { count: number; sum: number; p50: number | null; p95: number | null; p99: number | null; max: number | null };
  tokens: TokenTotals;
  steps: { total: number; max: number };
}

/** A row of counts and sums in the statements' column names (run-stats-sql.ts), with its group key `g` and bucket key `b`. */
export type Row = Record<string, unknown>;

/** The percentile `percentile` of duration (`d`) or TTFT (`t`) for the row at hand. */
export type Pick = (kind: "d" | "t", percentile: number) => unknown;

/** A statement's row of counts and sums, with the percentiles `pick` finds for it. */
export function statsRow(row: Row, pick: Pick): StatsRow {
  const n = (column: string) => Number(row[column] ?? 0);
  const nullable = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  const distribution = (kind: "d" | "t", prefix: string) => ({
    count: n(`${prefix}_count`),
    sum: n(`${prefix}_sum`),
    max: nullable(row[`${prefix}_max`]),
    p50: nullable(pick(kind, 50)),
    p95: nullable(pick(kind, 95)),
    p99: nullable(pick(kind, 99)),
  });
  return {
    group: (row.g as string | null) ?? null,
    bucket: (row.b as string | null) ?? null,
    runs: n("runs"),
    by_status: { created: n("created"), running: n("running"), completed: n("completed"), failed: n("failed"), cancelled: n("cancelled") },
    duration: distribution("d", "duration"),
    ttft: distribution("t", "ttft"),
    tokens: {
      prompt: n("prompt"),
      completion: n("completion"),
      total: n("total"),
      cached_input: n("cached_input"),
      cache_write: n("cache_write"),
      reasoning: n("reasoning"),
    },
    steps: { total: n("steps_total"), max: n("steps_max") },
  };
}

/**
 * The sums row of the union of disjoint groups, in the sums statement's column names:
 * counts and sums add up, maxima take the largest. Only for groups that never share a run.
 */
export function addUp(groups: readonly StatsRow[]): Row {
  const sum = (of: (g: StatsRow) => number) => groups.reduce((total, g) => total + of(g), 0);
  const max = (of: (g: StatsRow) => number | null) =>
    groups.reduce<number | null>((top, g) => {
      const value = of(g);
      return value === null || (top !== null && top >= value) ? top : value;
    }, null);
  const row: Row = {
    g: null,
    b: null,
    runs: sum((g) => g.runs),
    duration_count: sum((g) => g.duration.count),
    duration_sum: sum((g) => g.duration.sum),
    duration_max: max((g) => g.duration.max),
    ttft_count: sum((g) => g.ttft.count),
    ttft_sum: sum((g) => g.ttft.sum),
    ttft_max: max((g) => g.ttft.max),
    steps_total: sum((g) => g.steps.total),
    steps_max: max((g) => g.steps.max) ?? 0,
  };
  for (const status of Object.keys(groups[0]?.by_status ?? {})) row[status] = sum((g) => g.by_status[status]!);
  for (const kind of ["prompt", "completion", "total", "cached_input", "cache_write", "reasoning"] as const) row[kind] = sum((g) => g.tokens[kind]);
  return row;
}
