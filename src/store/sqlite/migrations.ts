import type { Migration } from "../executor.js";
import { SAME_ON_BOTH } from "../migrations-shared.js";

/** Forward-only migrations for the SQLite backend. Never edit a released migration: add the next number. */
export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema",
    sql: `
CREATE TABLE organizations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL REFERENCES organizations(id),
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'write', 'read')),
  is_superuser INTEGER NOT NULL DEFAULT 0,
  prefix TEXT NOT NULL UNIQUE,
  secret_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at TEXT
);
CREATE INDEX api_keys_org ON api_keys (organization_id, created_at, id);

CREATE TABLE agents (
  id TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL REFERENCES organizations(id),
  name TEXT NOT NULL,
  metadata TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  last_stop_reason TEXT,
  last_run_completion TEXT,
  last_run_duration_ms INTEGER
);
CREATE INDEX agents_org_created ON agents (organization_id, created_at, id);

CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL REFERENCES organizations(id),
  agent_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('created', 'running', 'completed', 'failed', 'cancelled')),
  stop_reason TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  completed_at TEXT,
  background INTEGER NOT NULL DEFAULT 0,
  metadata TEXT NOT NULL,
  request_config TEXT,
  conversation_id TEXT,
  project_id TEXT,
  base_template_id TEXT,
  callback_url TEXT,
  callback_sent_at TEXT,
  callback_status_code INTEGER,
  callback_error TEXT,
  ttft_ns INTEGER,
  total_duration_ns INTEGER,
  started_at TEXT,
  last_heartbeat_at TEXT,
  cancel_requested_at TEXT,
  error TEXT,
  tags TEXT NOT NULL,
  idempotency_key TEXT,
  request_hash TEXT,
  ttl_s INTEGER,
  max_duration_s INTEGER,
  heartbeat_timeout_s INTEGER,
  deleted_at TEXT,
  last_seq_id INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_org_created ON runs (organization_id, created_at, id);
CREATE INDEX runs_org_agent_created ON runs (organization_id, agent_id, created_at, id);
CREATE INDEX runs_org_status_created ON runs (organization_id, status, created_at, id);
CREATE INDEX runs_org_conversation_created ON runs (organization_id, conversation_id, created_at, id) WHERE conversation_id IS NOT NULL;
CREATE INDEX runs_active ON runs (organization_id, created_at, id) WHERE status IN ('created', 'running');
CREATE INDEX runs_active_all ON runs (status, created_at) WHERE status IN ('created', 'running');
CREATE UNIQUE INDEX runs_idempotency ON runs (organization_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE run_metrics (
  id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  organization_id TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  project_id TEXT,
  base_template_id TEXT,
  run_start_ns INTEGER NOT NULL,
  run_ns INTEGER,
  num_steps INTEGER NOT NULL DEFAULT 0,
  tools_used TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  total_tokens INTEGER NOT NULL DEFAULT 0,
  cached_input_tokens INTEGER,
  cache_write_tokens INTEGER,
  reasoning_tokens INTEGER
);

CREATE TABLE steps (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  agent_id TEXT NOT NULL,
  organization_id TEXT NOT NULL,
  project_id TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'success', 'failed', 'cancelled')),
  stop_reason TEXT,
  provider_name TEXT,
  provider_category TEXT,
  provider_id TEXT,
  model TEXT,
  model_endpoint TEXT,
  model_handle TEXT,
  context_window_limit INTEGER,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  total_tokens INTEGER NOT NULL DEFAULT 0,
  cached_input_tokens INTEGER,
  cache_write_tokens INTEGER,
  reasoning_tokens INTEGER,
  prompt_tokens_details TEXT,
  completion_tokens_details TEXT,
  error_type TEXT,
  error_data TEXT,
  feedback TEXT CHECK (feedback IN ('positive', 'negative')),
  tags TEXT NOT NULL,
  trace_id TEXT,
  request_id TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  llm_request_start_ns INTEGER,
  llm_request_ns INTEGER,
  tool_execution_ns INTEGER,
  step_start_ns INTEGER,
  step_ns INTEGER
);
CREATE INDEX steps_run_created ON steps (run_id, created_at, id);
CREATE INDEX steps_org_created ON steps (organization_id, created_at, id);
CREATE INDEX steps_org_agent_created ON steps (organization_id, agent_id, created_at, id);

CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step_id TEXT,
  agent_id TEXT NOT NULL,
  organization_id TEXT NOT NULL,
  sequence_id INTEGER NOT NULL,
  message_type TEXT NOT NULL,
  created_at TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE UNIQUE INDEX messages_run_sequence ON messages (run_id, sequence_id);

CREATE TABLE run_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq_id INTEGER NOT NULL,
  organization_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  event TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX run_events_run_seq ON run_events (run_id, seq_id);
CREATE INDEX run_events_org_id ON run_events (organization_id, id);
`,
  },
  {
    version: 2,
    name: "webhook outbox",
    sql: `
CREATE TABLE webhook_secrets (
  organization_id TEXT PRIMARY KEY REFERENCES organizations(id),
  secret TEXT NOT NULL,
  previous_secret TEXT,
  previous_expires_at TEXT,
  rotated_at TEXT,
  created_at TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  organization_id TEXT NOT NULL,
  url TEXT NOT NULL,
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  locked_until TEXT,
  last_status_code INTEGER,
  last_error TEXT,
  created_at TEXT NOT NULL,
  delivered_at TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status IN ('pending', 'failed');
CREATE INDEX webhook_deliveries_run ON webhook_deliveries (run_id, created_at);

CREATE TABLE webhook_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  status_code INTEGER,
  error TEXT,
  outcome TEXT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);
`,
  },
  {
    version: 3,
    name: "audit log and retention policies",
    sql: `
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  organization_id TEXT NOT NULL,
  api_key_id TEXT,
  action TEXT NOT NULL,
  run_id TEXT,
  target_id TEXT,
  details TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX audit_log_org ON audit_log (organization_id, id);
CREATE INDEX audit_log_org_run ON audit_log (organization_id, run_id, id);

CREATE TABLE retention_policies (
  organization_id TEXT PRIMARY KEY REFERENCES organizations(id),
  terminal_days INTEGER,
  status_days TEXT NOT NULL,
  soft_deleted_grace_days INTEGER,
  updated_at TEXT NOT NULL
);
CREATE INDEX runs_org_completed ON runs (organization_id, completed_at) WHERE completed_at IS NOT NULL;
CREATE INDEX runs_deleted ON runs (deleted_at) WHERE deleted_at IS NOT NULL;
`,
  },
  ...SAME_ON_BOTH,
];
