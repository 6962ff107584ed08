/**
 * Appending a batch of messages to an active run, with everything that goes with it: the
 * run's row lock, heartbeat and sequence numbers, the step ids the messages name, the
 * message rows, their events, the run's tools_used and the audit row.
 *
 * On PostgreSQL this is one statement whatever the batch size: data-modifying CTEs over the
 * batch passed as one JSON array, so a batch costs one round trip inside its transaction
 * (plus BEGIN and COMMIT). Sequence numbers stay dense and unique under concurrency because
 * the UPDATE of the run's row comes first: a concurrent append waits for the row lock and
 * then reads the advanced last_seq_id. SQLite runs the same steps as separate statements,
 * which cost no round trips there.
 *
 * The caller decides what a shortfall means: it rolls the transaction back by throwing.
 */
import type { LettaMessage } from "../../core/letta-messages.js";
import type { RunNotice } from "../../core/run-notice.js";
import { ACTIVE_STATUSES } from "../../core/run-lifecycle.js";
import type { Dialect, Executor } from "../executor.js";
import type { AuditRepo } from "./audit.js";
import type { MessageRepo } from "./messages.js";
import type { RunEventRepo } from "./run-events.js";
import type { RunMetricsRepo } from "./run-metrics.js";
import type { RunRepo } from "./runs.js";
import { json } from "../sql-values.js";

/** A message as the caller built it: every field but its seq_id, which the append assigns. */
export type UnsequencedMessage = Omit<LettaMessage, "seq_id">;

export interface MessageAppend {
  organizationId: string;
  runId: string;
  now: string;
  messages: readonly UnsequencedMessage[];
  /** The distinct step ids the messages name; each must be a step of the run. */
  stepIds: readonly string[];
  /** Tool names the messages call, distinct, in order of first use. */
  tools: readonly string[];
  audit: { api_key_id: string | null; action: string; details: Record<string, unknown> };
}

export type MessageAppendResult =
  /** The run does not exist or has ended: nothing was written. */
  | { kind: "inactive" }
  /** Written as far as it went; the caller throws to roll back. */
  | { kind: "refused"; missingStepIds: string[]; insertedIds: string[] }
  | { kind: "appended"; messages: LettaMessage[] };

export class MessageAppendRepo {
  constructor(
    private readonly db: Executor,
    private readonly dialect: Dialect,
    private readonly notices: RunNotice[],
    private readonly repos: { runs: RunRepo; messages: MessageRepo; events: RunEventRepo; metrics: RunMetricsRepo; audit: AuditRepo },
  ) {}

  async append(input: MessageAppend): Promise<MessageAppendResult> {
    return this.dialect.name === "postgres" ? this.appendInOneStatement(input) : this.appendStepByStep(input);
  }

  private async appendInOneStatement(input: MessageAppend): Promise<MessageAppendResult> {
    const { organizationId: org, runId, now, messages } = input;
    const tools = JSON.stringify(input.tools);
    const row = await this.db.get<{ last_seq_id: number; inserted: unknown; found_steps: unknown }>(APPEND_SQL, [
      now, now, messages.length, runId, org,
      messages.length, JSON.stringify(messages),
      runId, org, now,
      JSON.stringify(input.stepIds), org, runId,
      org,
      tools, runId, tools,
      org, input.audit.api_key_id, input.audit.action, runId, JSON.stringify(input.audit.details), now,
    ]);
    if (row === undefined) return { kind: "inactive" };
    const lastSeqId = Number(row.last_seq_id);
    const sequenced = withSeqIds(messages, lastSeqId);
    const insertedIds = json<string[]>(row.inserted);
    const foundSteps = new Set(json<string[]>(row.found_steps));
    const missingStepIds = input.stepIds.filter((id) => !foundSteps.has(id));
    if (missingStepIds.length > 0 || insertedIds.length < messages.length) return { kind: "refused", missingStepIds, insertedIds };
    this.notices.push({ organization_id: org, run_id: runId, seq_id: lastSeqId });
    return { kind: "appended", messages: sequenced };
  }

  private async appendStepByStep(input: MessageAppend): Promise<MessageAppendResult> {
    const { organizationId: org, runId, now, messages } = input;
    const locked = await this.repos.runs.update(
      org,
      runId,
      { last_heartbeat_at: now, updated_at: now },
      { fromStatuses: ACTIVE_STATUSES, events: messages.length },
    );
    if (locked === undefined) return { kind: "inactive" };
    const found = await this.stepsOfRun(org, runId, input.stepIds);
    const missingStepIds = input.stepIds.filter((id) => !found.has(id));
    if (missingStepIds.length > 0) return { kind: "refused", missingStepIds, insertedIds: [] };
    const sequenced = withSeqIds(messages, locked.lastSeqId);
    const insertedIds = await this.repos.messages.insertMany(
      sequenced.map((message) => ({ message, agent_id: locked.run.agent_id, organization_id: org, created_at: now })),
    );
    if (insertedIds.length < messages.length) return { kind: "refused", missingStepIds, insertedIds };
    await this.repos.events.insertMany(
      org,
      sequenced.map((m) => ({ run_id: runId, seq_id: m.seq_id, kind: "message", created_at: m.date, event: m as never })),
    );
    if (input.tools.length > 0) await this.repos.metrics.addTools(runId, input.tools);
    await this.repos.audit.record(org, {
      api_key_id: input.audit.api_key_id,
      action: input.audit.action,
      run_id: runId,
      target_id: null,
      details: input.audit.details,
      created_at: now,
    });
    return { kind: "appended", messages: sequenced };
  }

  private async stepsOfRun(org: string, runId: string, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.all<{ id: string }>(
      `SELECT id FROM steps WHERE organization_id = ? AND run_id = ? AND id IN (${ids.map(() => "?").join(", ")})`,
      [org, runId, ...ids],
    );
    return new Set(rows.map((r) => r.id));
  }
}

/** The batch numbered up to `lastSeqId`, in order; seq_id is the last field, as messages are stored. */
function withSeqIds(messages: readonly UnsequencedMessage[], lastSeqId: number): LettaMessage[] {
  const first = lastSeqId - messages.length + 1;
  return messages.map((m, i) => ({ ...m, seq_id: first + i }) as LettaMessage);
}

const ACTIVE = ACTIVE_STATUSES.map((s) => `'${s}'`).join(", ");

/**
 * PostgreSQL: the whole append. Every CTE reads from `locked`, so an ended or missing run
 * writes nothing and returns no row. The step check and the id conflicts are reported, not
 * enforced: the caller rolls back. Parameters in order of their `?`.
 */
const APPEND_SQL = `
WITH locked AS (
  UPDATE runs SET last_heartbeat_at = ?, updated_at = ?, last_seq_id = last_seq_id + ?
  WHERE id = ? AND organization_id = ? AND deleted_at IS NULL AND status IN (${ACTIVE})
  RETURNING agent_id, last_seq_id
),
batch AS (
  SELECT e.value || jsonb_build_object('seq_id', locked.last_seq_id - ?::bigint + e.ordinality) AS body
  FROM locked, jsonb_array_elements(?::jsonb) WITH ORDINALITY AS e(value, ordinality)
),
inserted AS (
  INSERT INTO messages (id, run_id, step_id, agent_id, organization_id, sequence_id, message_type, created_at, body)
  SELECT b.body->>'id', ?, b.body->>'step_id', locked.agent_id, ?, (b.body->>'seq_id')::bigint, b.body->>'message_type', ?::timestamptz, b.body
  FROM batch b, locked
  ON CONFLICT (id) DO NOTHING
  RETURNING id
),
found_steps AS (
  SELECT s.id FROM steps s
  WHERE s.id IN (SELECT jsonb_array_elements_text(?::jsonb)) AND s.organization_id = ? AND s.run_id = ?
),
events AS (
  INSERT INTO run_events (run_id, seq_id, organization_id, kind, event, created_at)
  SELECT b.body->>'run_id', (b.body->>'seq_id')::bigint, ?, 'message', b.body, (b.body->>'date')::timestamptz
  FROM batch b
),
tools AS (
  UPDATE run_metrics m SET tools_used = m.tools_used || (
    SELECT jsonb_agg(t.name ORDER BY t.position) FROM jsonb_array_elements_text(?::jsonb) WITH ORDINALITY AS t(name, position)
    WHERE NOT jsonb_exists(m.tools_used, t.name)
  )
  WHERE m.id = ? AND EXISTS (SELECT 1 FROM locked) AND EXISTS (
    SELECT 1 FROM jsonb_array_elements_text(?::jsonb) AS t(name) WHERE NOT jsonb_exists(m.tools_used, t.name)
  )
),
audited AS (
  INSERT INTO audit_log (organization_id, api_key_id, action, run_id, target_id, details, created_at)
  SELECT ?, ?, ?, ?, NULL, ?::jsonb, ?::timestamptz FROM locked
)
SELECT locked.last_seq_id,
  (SELECT COALESCE(jsonb_agg(id), '[]'::jsonb) FROM inserted) AS inserted,
  (SELECT COALESCE(jsonb_agg(id), '[]'::jsonb) FROM found_steps) AS found_steps
FROM locked`;
