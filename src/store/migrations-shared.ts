import type { Migration } from "./executor.js";

/**
 * Migrations whose SQL is the same on SQLite and PostgreSQL, written once and listed by both
 * backends in their place in the numbering.
 */
export const SAME_ON_BOTH: readonly Migration[] = [
  {
    version: 4,
    name: "statistics indexes",
    // An organization's percentiles are read by rank along the first two, with no sort of
    // every run; the third finds its metrics without going through runs.
    sql: `
CREATE INDEX run_metrics_org ON run_metrics (organization_id);
CREATE INDEX runs_org_duration ON runs (organization_id, total_duration_ns) WHERE deleted_at IS NULL AND total_duration_ns IS NOT NULL;
CREATE INDEX runs_org_ttft ON runs (organization_id, ttft_ns) WHERE deleted_at IS NULL AND ttft_ns IS NOT NULL;
`,
  },
  {
    version: 5,
    name: "active runs in key order",
    // The reaper reads active runs a window at a time, by (status, created_at, id).
    sql: `
DROP INDEX runs_active_all;
CREATE INDEX runs_active_all ON runs (status, created_at, id) WHERE status IN ('created', 'running');
`,
  },
  {
    version: 6,
    name: "statistics by status",
    // run_metrics carries its run's status, so the statistics count and sum by status from
    // it alone instead of joining it with runs row by row; each status's duration and TTFT
    // percentiles are read by rank along the two indexes, and their counts, sums and maxima
    // come from the same indexes without reading a row.
    sql: `
ALTER TABLE run_metrics ADD COLUMN status TEXT NOT NULL DEFAULT 'created';
UPDATE run_metrics SET status = (SELECT r.status FROM runs r WHERE r.id = run_metrics.id)
  WHERE EXISTS (SELECT 1 FROM runs r WHERE r.id = run_metrics.id AND r.status <> 'created');
CREATE INDEX runs_org_status_duration ON runs (organization_id, status, total_duration_ns) WHERE deleted_at IS NULL AND total_duration_ns IS NOT NULL;
CREATE INDEX runs_org_status_ttft ON runs (organization_id, status, ttft_ns) WHERE deleted_at IS NULL AND ttft_ns IS NOT NULL;
`,
  },
];
