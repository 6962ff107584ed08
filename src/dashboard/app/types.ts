/**
 * The API's response shapes as the dashboard reads them. Runs, steps, metrics, usage,
 * agents, statistics and deliveries are the server's own types, and the closed lists its
 * own declarations (from core/, which has no I/O), so the two cannot drift apart; the rest
 * is the wire shape of the routes that produce it (see /openapi.json).
 */
import { isTerminal, type RunStatus } from "../../core/run-lifecycle.js";

export type { Agent, Json, Run, RunMetrics, Step, Usage } from "../../core/model.js";
export { RUN_STATUSES, STOP_REASONS, type RunStatus } from "../../core/run-lifecycle.js";
export type { DeliveryView as Delivery, Distribution, RunStats as Stats, RunStatsReport as StatsReport } from "../../core/reports.js";
export const isActive = (status: RunStatus): boolean => !isTerminal(status);

export interface LettaMessage {
  id: string;
  message_type: string;
  date: string;
  run_id: string;
  step_id: string | null;
  seq_id: number;
  [field: string]: unknown;
}

export interface BulkResult {
  dry_run: boolean;
  matched: number;
  changed: number;
}
