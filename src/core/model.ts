/**
 * The records runledger keeps, in the wire shape of Letta's run API (snake_case), so the
 * services' results serialise to HTTP unchanged.
 */
import type { RunStatus, StopReason } from "./run-lifecycle.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const ROLES = ["admin", "write", "read"] as const;
export type Role = (typeof ROLES)[number];

/** Who is asking: every service call is scoped to the actor's organization. */
export interface Actor {
  organization_id: string;
  role: Role;
  /** The API key that authenticated the call, when there was one (for the audit trail). */
  api_key_id?: string;
  /** The first admin key of the installation: may act across organizations. */
  superuser?: boolean;
}

export interface Organization {
  id: string;
  name: string;
  created_at: string;
}

export interface ApiKey {
  id: string;
  organization_id: string;
  name: string;
  role: Role;
  is_superuser: boolean;
  /** The visible start of the secret, for telling keys apart; never enough to use it. */
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface Agent {
  id: string;
  name: string;
  metadata: JsonObject;
  created_at: string;
  updated_at: string;
  last_stop_reason: StopReason | null;
  last_run_completion: string | null;
  last_run_duration_ms: number | null;
}

export interface RunError {
  type: string;
  message: string;
  details?: Json;
}

export interface Run {
  id: string;
  agent_id: string;
  status: RunStatus;
  stop_reason: StopReason | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  background: boolean;
  metadata: JsonObject;
  request_config: JsonObject | null;
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
  error: RunError | null;
  tags: string[];
  idempotency_key: string | null;
  ttl_s: number | null;
  max_duration_s: number | null;
  heartbeat_timeout_s: number | null;
  deleted_at: string | null;
}

export interface RunMetrics {
  id: string;
  agent_id: string;
  project_id: string | null;
  base_template_id: string | null;
  run_start_ns: number;
  run_ns: number | null;
  num_steps: number;
  tools_used: string[];
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_input_tokens: number | null;
  cache_write_tokens: number | null;
  reasoning_tokens: number | null;
}

export const STEP_STATUSES = ["pending", "success", "failed", "cancelled"] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];
/** The statuses a pending step can be finished with. */
export const FINISHED_STEP_STATUSES = ["success", "failed", "cancelled"] as const satisfies readonly StepStatus[];
export const FEEDBACK_VALUES = ["positive", "negative"] as const;
export type Feedback = (typeof FEEDBACK_VALUES)[number];

export interface Step {
  id: string;
  run_id: string;
  agent_id: string;
  project_id: string | null;
  status: StepStatus;
  stop_reason: StopReason | null;
  provider_name: string | null;
  provider_category: string | null;
  provider_id: string | null;
  model: string | null;
  model_endpoint: string | null;
  model_handle: string | null;
  context_window_limit: number | null;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_input_tokens: number | null;
  cache_write_tokens: number | null;
  reasoning_tokens: number | null;
  prompt_tokens_details: JsonObject | null;
  completion_tokens_details: JsonObject | null;
  error_type: string | null;
  error_data: JsonObject | null;
  feedback: Feedback | null;
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

/** Letta's step metrics view of a step. */
export interface StepMetrics {
  id: string;
  run_id: string;
  agent_id: string;
  project_id: string | null;
  provider_id: string | null;
  llm_request_start_ns: number | null;
  llm_request_ns: number | null;
  tool_execution_ns: number | null;
  step_start_ns: number | null;
  step_ns: number | null;
}

export interface Usage {
  completion_tokens: number;
  prompt_tokens: number;
  total_tokens: number;
  step_count: number;
  cached_input_tokens: number | null;
  cache_write_tokens: number | null;
  reasoning_tokens: number | null;
  prompt_tokens_details: { cached_tokens: number | null; cache_read_tokens: number | null; cache_creation_tokens: number | null };
  completion_tokens_details: { reasoning_tokens: number | null };
}

export const RUN_EVENT_KINDS = ["status", "step", "message", "chunk"] as const;
export type RunEventKind = (typeof RUN_EVENT_KINDS)[number];

export interface RunEvent {
  /** Position in the organization-wide feed; assigned when stored. */
  id?: number;
  run_id: string;
  seq_id: number;
  kind: RunEventKind;
  event: JsonObject;
  created_at: string;
}

/** What run statistics can be grouped by, and the time buckets of created_at (UTC). */
export const STATS_GROUPS = ["agent_id", "status", "stop_reason", "model"] as const;
export type StatsGroupBy = (typeof STATS_GROUPS)[number];
export const STATS_BUCKETS = ["minute", "hour", "day"] as const;
export type StatsBucket = (typeof STATS_BUCKETS)[number];
