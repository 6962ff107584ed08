/**
 * "Stays flat", precisely. Samples before the warm-up's end are dropped; the rest (the
 * window) is split in thirds by count. A series passes when both hold:
 *
 *   change = median(last third) − median(first third) ≤ max(bound.change × median(first third), bound.floor)
 *   hourly = Theil–Sen slope over the window × 3600 s  ≤ max(bound.hourly × median(first third), bound.floor)
 *
 * Only growth fails: a series that falls is flat enough. The slope is Theil–Sen's (the
 * median of the slopes between every pair of samples) rather than least squares', because a
 * p99 is noisy on a shared machine: one 50 ms spike in the last of 48 samples moves a
 * least-squares line by ~45 ms per hour, and Theil–Sen by nothing. The floor keeps
 * series that sit near zero (a 2 ms p99, a WAL file that was just checkpointed) from
 * failing on noise smaller than anything that matters.
 */

export interface Bound {
  /** Largest growth of the last third's median over the first third's, as a fraction of the first. */
  change: number;
  /** Largest slope extrapolated to one hour, as a fraction of the first third's median. */
  hourly: number;
  /** Growth (in the series' unit) that passes whatever the fractions say. */
  floor: number;
}

export const BOUNDS = {
  rss: { change: 0.1, hourly: 0.25, floor: 8 },
  heap: { change: 0.2, hourly: 0.5, floor: 8 },
  loop: { change: 0.5, hourly: 1, floor: 5 },
  latency: { change: 0.5, hourly: 1, floor: 10 },
  sqliteWal: { change: 0.25, hourly: 0.5, floor: 4 },
  /** WAL written per window, by the whole cluster: full-page images after each checkpoint make it jump. */
  postgresWal: { change: 0.5, hourly: 1, floor: 16 },
} satisfies Record<string, Bound>;

export interface Point {
  t: number;
  v: number;
}

export interface Series {
  name: string;
  unit: string;
  bound: Bound;
  points: Point[];
  /** False for context (the machine's load): shown, never judged. */
  judged?: boolean;
}

export interface Judgement {
  series: Series;
  /** Samples after the warm-up. */
  count: number;
  first: number;
  last: number;
  change: number;
  changeLimit: number;
  hourly: number;
  hourlyLimit: number;
  /** Theil–Sen line over the window (for the plot): v = intercept + slope × t. */
  slope: number;
  intercept: number;
  pass: boolean;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Theil–Sen: the median of pairwise slopes, and the median of v − slope × t as the intercept. */
export function theilSen(points: readonly Point[]): { slope: number; intercept: number } {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const dt = points[j]!.t - points[i]!.t;
      if (dt !== 0) slopes.push((points[j]!.v - points[i]!.v) / dt);
    }
  }
  const slope = slopes.length === 0 ? 0 : median(slopes);
  return { slope, intercept: median(points.map((p) => p.v - slope * p.t)) };
}

export function judge(series: Series, warmupS: number): Judgement {
  const kept = series.points.filter((p) => p.t > warmupS);
  const third = Math.max(1, Math.floor(kept.length / 3));
  const first = kept.length === 0 ? Number.NaN : median(kept.slice(0, third).map((p) => p.v));
  const last = kept.length === 0 ? Number.NaN : median(kept.slice(-third).map((p) => p.v));
  const { slope, intercept } = theilSen(kept);
  const change = last - first;
  const hourly = slope * 3_600;
  const changeLimit = Math.max(series.bound.change * first, series.bound.floor);
  const hourlyLimit = Math.max(series.bound.hourly * first, series.bound.floor);
  // Three samples at least: fewer cannot show a trend either way.
  const pass = series.judged === false || (kept.length >= 3 && change <= changeLimit && hourly <= hourlyLimit);
  return { series, count: kept.length, first, last, change, changeLimit, hourly, hourlyLimit, slope, intercept, pass };
}
