/**
 * The SQL text of the run statistics: the sums of a group, and the percentile statements
 * of SQLite (window ranks) and PostgreSQL (percentile_disc). Each statement wraps the query
 * it is given, the filtered runs with their group key `g` and bucket key `b` (RunStatsRepo
 * builds it), as `f`.
 */
import { RUN_STATUSES } from "../../core/run-lifecycle.js";

export const PERCENTILES = [50, 95, 99] as const;

/** The number of runs in each status, one column per status, from the status in `column`. */
export function statusCounts(column: string): string {
  return RUN_STATUSES.map((status) => `sum(CASE WHEN ${column} = '${status}' THEN 1 ELSE 0 END) AS ${status}`).join(",\n  ");
}

/** Count, sum and maximum of a duration column (rows without it are not counted), as `<prefix>_count` and so on. */
export function valueSums(column: string, prefix: "duration" | "ttft"): string {
  return `count(${column}) AS ${prefix}_count, coalesce(sum(${column}), 0) AS ${prefix}_sum, max(${column}) AS ${prefix}_max`;
}

/** Counts, sums and maxima of one group from runs' own columns. */
export const RUN_SUMS = `count(*) AS runs,
  ${statusCounts("status")},
  ${valueSums("total_duration_ns", "duration")},
  ${valueSums("ttft_ns", "ttft")}`;

/** Sums and maxima of one group from run_metrics' columns. */
export const METRIC_SUMS = `coalesce(sum(prompt_tokens), 0) AS prompt, coalesce(sum(completion_tokens), 0) AS completion, coalesce(sum(total_tokens), 0) AS total,
  coalesce(sum(cached_input_tokens), 0) AS cached_input, coalesce(sum(cache_write_tokens), 0) AS cache_write,
  coalesce(sum(reasoning_tokens), 0) AS reasoning,
  coalesce(sum(num_steps), 0) AS steps_total, coalesce(max(num_steps), 0) AS steps_max`;

const SUMS = `${RUN_SUMS},\n  ${METRIC_SUMS}`;

const ORDER = "ORDER BY b NULLS FIRST, g NULLS FIRST";

/** The counts, sums and maxima per group, in one plain GROUP BY. */
export function sumsStatement(base: string): string {
  return `WITH f AS (${base}) SELECT g, b, ${SUMS} FROM f GROUP BY g, b ${ORDER}`;
}

/**
 * SQLite: the duration and TTFT percentiles per group, from rows narrowed to the group keys
 * and the two columns (`narrow` reads only runs unless a filter or group_by=model needs a
 * join). Each non-null value is ranked within its column and group, one sort for both the
 * rank and the group's count, and only the rows at the ranks ⌈p·n/100⌉ reach the GROUP BY.
 */
export function percentileStatement(narrow: string): string {
  const rank = (p: number) => `(n * ${p} + 99) / 100`;
  const picks = PERCENTILES.map((p) => `max(CASE WHEN rn = ${rank(p)} THEN x END) AS p${p}`).join(", ");
  return `WITH f AS (${narrow}),
    v AS (
      SELECT 'd' AS k, g, b, total_duration_ns AS x FROM f WHERE total_duration_ns IS NOT NULL
      UNION ALL
      SELECT 't' AS k, g, b, ttft_ns AS x FROM f WHERE ttft_ns IS NOT NULL
    ),
    ranked AS (
      SELECT k, g, b, x, row_number() OVER w AS rn, count(*) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS n
      FROM v WINDOW w AS (PARTITION BY k, g, b ORDER BY x)
    )
    SELECT k, g, b, ${picks} FROM ranked WHERE rn IN (${PERCENTILES.map(rank).join(", ")}) GROUP BY k, g, b`;
}

/**
 * PostgreSQL: the sums and, per group, the ordered-set aggregate percentile_disc, which is
 * the same nearest-rank rule (the first value whose cumulative share reaches p; nulls
 * ignored) and sorts each column once per group.
 */
export function orderedSetStatement(base: string): string {
  const fractions = `ARRAY[${PERCENTILES.map((p) => p / 100).join(", ")}]::float8[]`;
  const picks = (column: string, prefix: string) => {
    const all = `percentile_disc(${fractions}) WITHIN GROUP (ORDER BY ${column})`;
    return PERCENTILES.map((p, i) => `(${all})[${i + 1}] AS ${prefix}${p}`).join(", ");
  };
  return `WITH f AS (${base})
    SELECT g, b, ${SUMS}, ${picks("total_duration_ns", "d")}, ${picks("ttft_ns", "t")}
    FROM f GROUP BY g, b ${ORDER}`;
}
