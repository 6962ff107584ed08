/**
 * The database half of the HTTP floors (bench/floors/floor-server.ts): the least work that
 * answers runledger's read and write routes with the same rows and the same bytes, on the
 * same SQLite file.
 *
 * Reads are one prepared better-sqlite3 statement each, rows read as arrays and turned into
 * the API's run object in the API's field order, for JSON.stringify. Writes are the rows
 * runledger's services write, in one transaction each:
 *
 *   POST  /v1/runs  → agent checked, runs row (last_seq_id 1), run_events seq 1 (`created`),
 *                     run_metrics row, audit_log `run.create`
 *   PATCH → completed → run read, guarded UPDATE … RETURNING (status, stop_reason,
 *                     completed_at, total_duration_ns, updated_at, last_seq_id + 1),
 *                     run_metrics.status and run_ns, the agent's last_* fields, run_events status
 *                     event, audit_log `run.update` (no webhook row: the bench's runs have no
 *                     callback_url, so runledger writes none either)
 *
 * Durability as runledger's default SQLite setup (src/store/sqlite/driver.ts): WAL,
 * synchronous=NORMAL, SQLite's default auto-checkpoint, and grouped commits: the first
 * transaction of an event-loop turn opens BEGIN IMMEDIATE, each one runs in its own
 * savepoint, one COMMIT at the next check phase ends them all, and each caller hears of
 * success only after that COMMIT.
 */
import Database from "better-sqlite3";
import { createHash, randomUUID } from "node:crypto";

/** The run's columns in the order of the API's Run schema (src/http/schemas/runs.ts). */
const COLUMNS = [
  "id", "agent_id", "status", "stop_reason", "created_at", "updated_at", "completed_at", "background", "metadata",
  "request_config", "conversation_id", "project_id", "base_template_id", "callback_url", "callback_sent_at",
  "callback_status_code", "callback_error", "ttft_ns", "total_duration_ns", "started_at", "last_heartbeat_at",
  "cancel_requested_at", "error", "tags", "idempotency_key", "ttl_s", "max_duration_s", "heartbeat_timeout_s", "deleted_at",
] as const;
const SELECT_RUN = `SELECT ${COLUMNS.join(", ")} FROM runs`;

export interface FloorActor {
  organization_id: string;
  api_key_id: string;
}

type Row = unknown[];

/** The run object as the API sends it, from a row in COLUMNS order. */
function toRun(r: Row): Record<string, unknown> {
  return {
    id: r[0], agent_id: r[1], status: r[2], stop_reason: r[3], created_at: r[4], updated_at: r[5], completed_at: r[6],
    background: r[7] === 1, metadata: JSON.parse(r[8] as string), request_config: r[9] === null ? null : JSON.parse(r[9] as string),
    conversation_id: r[10], project_id: r[11], base_template_id: r[12], callback_url: r[13], callback_sent_at: r[14],
    callback_status_code: r[15], callback_error: r[16], ttft_ns: r[17], total_duration_ns: r[18], started_at: r[19],
    last_heartbeat_at: r[20], cancel_requested_at: r[21], error: r[22] === null ? null : JSON.parse(r[22] as string),
    tags: JSON.parse(r[23] as string), idempotency_key: r[24], ttl_s: r[25], max_duration_s: r[26], heartbeat_timeout_s: r[27],
    deleted_at: r[28],
  };
}

export class FloorDb {
  private readonly db: Database.Database;
  private readonly byId: Database.Statement;
  private readonly firstPage: Database.Statement;
  private readonly agentExists: Database.Statement;
  private readonly insertRun: Database.Statement;
  private readonly insertEvent: Database.Statement;
  private readonly insertMetrics: Database.Statement;
  private readonly insertAudit: Database.Statement;
  private readonly readForUpdate: Database.Statement;
  private readonly complete: Database.Statement;
  private readonly setRunEnd: Database.Statement;
  private readonly agentRunEnd: Database.Statement;
  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly savepoint: Database.Statement;
  private readonly release: Database.Statement;
  private readonly rollbackTo: Database.Statement;
  private group: (() => void)[] | undefined;
  readonly keys = new Map<string, FloorActor>();

  constructor(file: string) {
    this.db = new Database(file, { timeout: 10_000 });
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("mmap_size = 2147418112");
    const raw = (sql: string) => this.db.prepare(sql).raw(true);
    this.byId = raw(`${SELECT_RUN} WHERE id = ? AND organization_id = ? AND deleted_at IS NULL`);
    this.firstPage = raw(`${SELECT_RUN} WHERE organization_id = ? AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 100`);
    this.agentExists = raw("SELECT 1 FROM agents WHERE id = ? AND organization_id = ?");
    this.insertRun = this.db.prepare(
      `INSERT INTO runs (id, organization_id, agent_id, status, created_at, updated_at, background, metadata, tags, last_heartbeat_at, last_seq_id)
       VALUES (?, ?, ?, 'created', ?, ?, 0, '{}', '[]', ?, 1)`,
    );
    this.insertEvent = this.db.prepare("INSERT INTO run_events (run_id, seq_id, organization_id, kind, event, created_at) VALUES (?, ?, ?, 'status', ?, ?)");
    this.insertMetrics = this.db.prepare("INSERT INTO run_metrics (id, organization_id, agent_id, project_id, base_template_id, run_start_ns, tools_used) VALUES (?, ?, ?, NULL, NULL, ?, '[]')");
    this.insertAudit = this.db.prepare("INSERT INTO audit_log (organization_id, api_key_id, action, run_id, target_id, details, created_at) VALUES (?, ?, ?, ?, NULL, ?, ?)");
    this.readForUpdate = raw("SELECT status, created_at FROM runs WHERE id = ? AND organization_id = ? AND deleted_at IS NULL");
    this.complete = raw(
      `UPDATE runs SET status = 'completed', updated_at = ?, stop_reason = 'end_turn', completed_at = ?, total_duration_ns = ?, last_seq_id = last_seq_id + 1
       WHERE id = ? AND organization_id = ? AND deleted_at IS NULL AND status IN ('running') RETURNING ${COLUMNS.join(", ")}, last_seq_id`,
    );
    this.setRunEnd = this.db.prepare("UPDATE run_metrics SET status = ?, run_ns = ? WHERE id = ?");
    this.agentRunEnd = this.db.prepare("UPDATE agents SET last_stop_reason = ?, last_run_completion = ?, last_run_duration_ms = ? WHERE id = ?");
    this.begin = this.db.prepare("BEGIN IMMEDIATE");
    this.commit = this.db.prepare("COMMIT");
    this.savepoint = this.db.prepare("SAVEPOINT tx");
    this.release = this.db.prepare("RELEASE tx");
    this.rollbackTo = this.db.prepare("ROLLBACK TO tx");
  }

  /** Accepts `secret` as the key with this prefix (read once, from the api_keys table). */
  trustKey(secret: string): void {
    const prefix = /^(rlk_[A-Za-z0-9]{12})_/.exec(secret)?.[1];
    const row = this.db.prepare("SELECT id, organization_id, secret_hash FROM api_keys WHERE prefix = ?").get(prefix) as
      | { id: string; organization_id: string; secret_hash: string }
      | undefined;
    if (row === undefined || row.secret_hash !== createHash("sha256").update(secret).digest("hex")) throw new Error("the floor's key is not in api_keys");
    this.keys.set(secret, { organization_id: row.organization_id, api_key_id: row.id });
  }

  getRun(actor: FloorActor, id: string): string | undefined {
    const row = this.byId.get(id, actor.organization_id) as Row | undefined;
    return row === undefined ? undefined : JSON.stringify(toRun(row));
  }

  listFirstPage(actor: FloorActor): string {
    return JSON.stringify((this.firstPage.all(actor.organization_id) as Row[]).map(toRun));
  }

  /** POST /v1/runs {agent_id}: the body once committed, or undefined for an unknown agent. */
  createRun(actor: FloorActor, agentId: string): Promise<string | undefined> {
    return this.transaction(() => {
      if (this.agentExists.get(agentId, actor.organization_id) === undefined) return undefined;
      const now = new Date().toISOString();
      const id = `run-${randomUUID()}`;
      this.insertRun.run(id, actor.organization_id, agentId, now, now, now);
      const event = { type: "run_status", run_id: id, seq_id: 1, status: "created", stop_reason: null, completed_at: null, cancel_requested_at: null };
      this.insertEvent.run(id, 1, actor.organization_id, JSON.stringify(event), now);
      this.insertMetrics.run(id, actor.organization_id, agentId, Date.now() * 1_000_000);
      this.insertAudit.run(actor.organization_id, actor.api_key_id, "run.create", id, null, new Date().toISOString());
      return JSON.stringify({
        id, agent_id: agentId, status: "created", stop_reason: null, created_at: now, updated_at: now, completed_at: null,
        background: false, metadata: {}, request_config: null, conversation_id: null, project_id: null, base_template_id: null,
        callback_url: null, callback_sent_at: null, callback_status_code: null, callback_error: null, ttft_ns: null,
        total_duration_ns: null, started_at: null, last_heartbeat_at: now, cancel_requested_at: null, error: null, tags: [],
        idempotency_key: null, ttl_s: null, max_duration_s: null, heartbeat_timeout_s: null, deleted_at: null,
      });
    });
  }

  /** PATCH /v1/runs/{id} {status: completed, stop_reason: end_turn} on a running run: the body once committed, or undefined. */
  completeRun(actor: FloorActor, id: string): Promise<string | undefined> {
    return this.transaction(() => {
      const current = this.readForUpdate.get(id, actor.organization_id) as [string, string] | undefined;
      if (current === undefined || current[0] !== "running") return undefined;
      const now = new Date().toISOString();
      const durationNs = Math.max(0, Date.parse(now) - Date.parse(current[1])) * 1_000_000;
      const row = this.complete.get(now, now, durationNs, id, actor.organization_id) as Row | undefined;
      if (row === undefined) return undefined;
      const run = toRun(row);
      const seq = row[COLUMNS.length] as number;
      this.setRunEnd.run("completed", durationNs, id);
      this.agentRunEnd.run("end_turn", now, Math.round(durationNs / 1_000_000), run.agent_id);
      const event = { type: "run_status", run_id: id, seq_id: seq, status: "completed", stop_reason: "end_turn", completed_at: now, cancel_requested_at: run.cancel_requested_at };
      this.insertEvent.run(id, seq, actor.organization_id, JSON.stringify(event), now);
      this.insertAudit.run(actor.organization_id, actor.api_key_id, "run.update", id, JSON.stringify({ status: "completed", stop_reason: "end_turn" }), new Date().toISOString());
      return JSON.stringify(run);
    });
  }

  /** `work` in its own savepoint of this turn's group; resolves after the group's COMMIT. */
  private transaction<T>(work: () => T): Promise<T> {
    let group = this.group;
    if (group === undefined) {
      this.begin.run();
      group = [];
      this.group = group;
      setImmediate(() => this.commitGroup());
    }
    this.savepoint.run();
    let result: T;
    try {
      result = work();
      this.release.run();
    } catch (error) {
      this.rollbackTo.run();
      this.release.run();
      return Promise.reject(error);
    }
    const members = group;
    return new Promise((resolve) => members.push(() => resolve(result)));
  }

  private commitGroup(): void {
    const group = this.group!;
    this.group = undefined;
    this.commit.run();
    for (const done of group) done();
  }

  close(): void {
    this.db.close();
  }
}
