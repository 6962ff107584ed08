/** Small helpers shared by the benchmarks: flags, timing, percentiles and medians, workers, markdown tables, number formats. */

export function hasFlag(name: string): boolean {
  return process.argv.slice(2).includes(name);
}

/** Milliseconds since `start` (a `process.hrtime.bigint()` reading). */
export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Nearest-rank percentile (0 < p ≤ 100) of ascending-sorted samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error("no samples");
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

export interface Summary {
  p50: number;
  p99: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1]! };
}

/**
 * Runs `task` `total` times with `concurrency` Promise-based workers pulling from one
 * counter; `task` gets its worker's index. Resolves when all are done.
 */
export async function runWorkers(total: number, concurrency: number, task: (worker: number) => Promise<void>): Promise<void> {
  let started = 0;
  const worker = async (index: number) => {
    while (started < total) {
      started++;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
}

export function markdownTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}

/** A number with thousands separators and at most `digits` decimals. */
export function fmt(value: number, digits = 0): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The median of unsorted samples (the mean of the middle two for an even count). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error("no samples");
  const s = [...samples].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Milliseconds with as many decimals as their size deserves: 1,234 · 56.7 · 8.90. */
export function fmtMs(ms: number): string {
  return ms >= 100 ? fmt(ms) : ms >= 10 ? fmt(ms, 1) : fmt(ms, 2);
}

/** The value of `fn` and how long it took, in milliseconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = process.hrtime.bigint();
  const value = await fn();
  return [value, msSince(started)];
}
