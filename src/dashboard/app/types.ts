/**
 * The API's response shapes as the dashboard reads them. Runs, steps, metrics, usage and
 * agents are the server's own types and the closed lists its own declarations (types and
 * constants from core/, which has no I/O), so the two cannot drift apart; the rest is the
 * wire shape of the routes that produce it (see /openapi.json).
 */
import { isTerminal, type RunStatus } from "../../core/run-lifecycle.js";

export type { Agent, Json, Run, RunMetrics, Step, Usage } from "../../core/model.js";
export { RUN_STATUSES, STOP_REASONS, type RunStatus } from "../../core/run-lifecycle.js";
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

export interface DeliveryAttempt {
  attempt: number;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  outcome: string;
}

export interface Delivery {
  id: string;
  url: string;
  event_type: string;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: string;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
  attempt_log: DeliveryAttempt[];
}

export interface Distribution {
  avg: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface Stats {
  runs: number;
  by_status: Record<string, number>;
  error_rate: number;
  duration_ns: Distribution;
  ttft_ns: Distribution;
  tokens: { prompt: number; completion: number; total: number; cached_input: number; cache_write: number; reasoning: number };
  steps: { total: number; avg_per_run: number; max: number };
}

export interface StatsReport {
  summary: Stats;
  groups: (Stats & { group?: string | null; bucket?: string })[];
  top_tools: { tool: string; runs: number }[];
}

export interface BulkResult {
  dry_run: boolean;
  matched: number;
  changed: number;
}
