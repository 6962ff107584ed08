/**
 * The shapes of two read models as the API returns them: run statistics and a run's webhook
 * deliveries. Declared here, with no I/O, so the store, the services, the HTTP client and
 * the dashboard all use the one declaration.
 */

export interface Distribution {
  avg: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface TokenTotals {
  prompt: number;
  completion: number;
  total: number;
  cached_input: number;
  cache_write: number;
  reasoning: number;
}

export interface RunStats {
  runs: number;
  by_status: Record<string, number>;
  /** failed ÷ ended runs (0 when none ended). */
  error_rate: number;
  duration_ns: Distribution;
  ttft_ns: Distribution;
  tokens: TokenTotals;
  steps: { total: number; avg_per_run: number; max: number };
}

export interface RunStatsReport {
  summary: RunStats;
  /** One entry per group and/or time bucket, when group_by or bucket is given. */
  groups: (RunStats & { group?: string | null; bucket?: string })[];
  top_tools: { tool: string; runs: number }[];
}

export type DeliveryStatus = "pending" | "delivered" | "failed" | "dead";

export interface WebhookDelivery {
  id: string;
  run_id: string;
  organization_id: string;
  url: string;
  event_type: string;
  /** The exact body that is signed and sent. */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

export interface WebhookAttempt {
  attempt: number;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  outcome: "delivered" | "retry" | "dead";
}

/** A delivery as GET /v1/runs/{run_id}/callbacks lists it: with every attempt. */
export type DeliveryView = Omit<WebhookDelivery, "organization_id"> & { attempt_log: WebhookAttempt[] };
