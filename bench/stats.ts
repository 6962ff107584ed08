/** Small helpers shared by the benchmarks: flags, timing, percentiles, workers, markdown tables. */

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
