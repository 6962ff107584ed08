/** The API's response shapes, as far as the dashboard reads them (see /openapi.json). */
export type RunStatus = "created" | "running" | "completed" | "failed" | "cancelled";
export const RUN_STATUSES: readonly RunStatus[] = ["created", "running", "completed", "failed", "cancelled"];
export const isActive = (status: RunStatus): boolean => status === "created" || status === "running";

export const STOP_REASONS = [
  "end_turn",
  "max_steps",
  "tool_rule",
  "requires_approval",
  "cancelled",
  "error",
  "llm_api_error",
  "invalid_llm_response",
  "invalid_tool_call",
  "no_tool_call",
  "max_tokens_exceeded",
  "insufficient_credits",
  "context_window_overflow_in_system_prompt",
  "expired",
  "timed_out",
  "heartbeat_lost",
] as const;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Run {
  id: string;
  agent_id: string;
  status: RunStatus;
  stop_reason: string | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  background: boolean;
  metadata: Record<string, Json>;
  request_config: Record<string, Json> | null;
  conversation_id: string | null;
  project_id: string | null;
  base_template_id: string | null;
  callback_url: string | null;
  callback_sent_at: string | null;
  callback_status_code: number | null;
  callback_error: string | null;
  ttft_ns: number | null;
  total_duration_ns: number | null;
  started_at: string | null;
  last_heartbeat_at: string | null;
  cancel_requested_at: string | null;
  error: { type: string; message: string; details?: Json } | null;
  tags: string[];
  idempotency_key: string | null;
  ttl_s: number | null;
  max_duration_s: number | null;
  heartbeat_timeout_s: number | null;
}

export interface RunMetrics {
  id: string;
  num_steps: number;
  tools_used: string[];
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_input_tokens: number | null;
  cache_write_tokens: number | null;
  reasoning_tokens: number | null;
  run_ns: number | null;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  step_count: number;
  cached_input_tokens: number | null;
  cache_write_tokens: number | null;
  reasoning_tokens: number | null;
}

export interface Step {
  id: string;
  run_id: string;
  status: "pending" | "success" | "failed" | "cancelled";
  stop_reason: string | null;
  provider_name: string | null;
  provider_category: string | null;
  model: string | null;
  model_endpoint: string | null;
  context_window_limit: number | null;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_input_tokens: number | null;
  cache_write_tokens: number | null;
  reasoning_tokens: number | null;
  error_type: string | null;
  error_data: Json;
  feedback: string | null;
  tags: string[];
  trace_id: string | null;
  request_id: string | null;
  created_at: string;
  updated_at: string;
  llm_request_start_ns: number | null;
  llm_request_ns: number | null;
  tool_execution_ns: number | null;
  step_start_ns: number | null;
  step_ns: number | null;
}

export interface LettaMessage {
  id: string;
  message_type: string;
  date: string;
  run_id: string;
  step_id: string | null;
  seq_id: number;
  [field: string]: unknown;
}

export interface Agent {
  id: string;
  name: string;
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
