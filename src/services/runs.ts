import { createHash } from "node:crypto";
import { ConflictError, InvalidArgumentError, InvalidTransitionError, NotFoundError } from "../core/errors.js";
import { newId, requireId } from "../core/ids.js";
import type { Actor, JsonObject, Run, RunError, RunMetrics, Usage } from "../core/model.js";
import {
  ACTIVE_STATUSES,
  isTerminal,
  resolveTerminal,
  type RunStatus,
  type StopReason,
} from "../core/run-lifecycle.js";
import type { Telemetry } from "../core/telemetry.js";
import { nowIso, parseTimestamp, wallClockNs } from "../core/time.js";
import { checkInput, checkQuery } from "../core/input.js";
import { RunCreateSchema, RunListSchema, RunUpdateSchema } from "../core/schemas/runs.js";
import { LIMITS, optionalHttpUrl, optionalJsonObject, uniqueStrings } from "../core/validate.js";
import type { Repos } from "../store/repos.js";
import type { RunColumns } from "../store/repos/runs.js";
import type { Store } from "../store/store.js";
import { AddressGuard } from "../webhooks/address-guard.js";
import { requireWriter } from "./access.js";
import { statusEvent } from "./run-events.js";
import { audit } from "./audit.js";
import { resolvePage } from "./paging.js";
import { effectiveOrder, parseRunListQuery, type RunListQuery } from "./run-filters.js";
import { cancelTransition, transition, transitionRejected } from "./run-transitions.js";

export interface RunCreateInput {
  agent_id: string;
  background?: boolean | null;
  metadata?: JsonObject | null;
  request_config?: JsonObject | null;
  conversation_id?: string | null;
  project_id?: string | null;
  base_template_id?: string | null;
  callback_url?: string | null;
  tags?: string[] | null;
  /** Seconds the run may wait in `created` before the reaper fails it as `expired`. */
  ttl_s?: number | null;
  /** Seconds the run may take in all before the reaper fails it as `timed_out`. */
  max_duration_s?: number | null;
  /** Seconds without a heartbeat before the reaper fails it as `heartbeat_lost`. */
  heartbeat_timeout_s?: number | null;
  /** Same key and same body returns the same run; same key with another body is a conflict. */
  idempotency_key?: string | null;
}

/** Letta's RunUpdate plus runledger's `error`. */
export interface RunUpdateInput {
  status?: RunStatus | null;
  stop_reason?: StopReason | null;
  metadata?: JsonObject | null;
  completed_at?: string | null;
  total_duration_ns?: number | null;
  ttft_ns?: number | null;
  error?: RunError | null;
}

export class RunService {
  constructor(
    private readonly store: Store,
    private readonly telemetry: Telemetry,
    private readonly guard: AddressGuard = new AddressGuard(),
  ) {}

  async create(actor: Actor, input: RunCreateInput): Promise<Run> {
    return (await this.createOrReplay(actor, input)).run;
  }

  /** Like create, and says whether the run is new or an idempotent replay of an earlier create. */
  async createOrReplay(actor: Actor, input: RunCreateInput): Promise<{ run: Run; created: boolean }> {
    requireWriter(actor);
    const body = checkInput(RunCreateSchema, input);
    const agentId = requireId("agent", body.agent_id, "agent_id");
    const now = nowIso();
    const run: Run = {
      id: newId("run"),
      agent_id: agentId,
      status: "created",
      stop_reason: null,
      created_at: now,
      updated_at: now,
      completed_at: null,
      background: body.background ?? false,
      metadata: optionalJsonObject(body.metadata, "metadata") ?? {},
      request_config: optionalJsonObject(body.request_config, "request_config") ?? null,
      conversation_id: body.conversation_id ?? null,
      project_id: body.project_id ?? null,
      base_template_id: body.base_template_id ?? null,
      callback_url: optionalHttpUrl(body.callback_url, "callback_url") ?? null,
      callback_sent_at: null,
      callback_status_code: null,
      callback_error: null,
      ttft_ns: null,
      total_duration_ns: null,
      started_at: null,
      last_heartbeat_at: now,
      cancel_requested_at: null,
      error: null,
      tags: uniqueStrings(body.tags) ?? [],
      idempotency_key: body.idempotency_key ?? null,
      ttl_s: body.ttl_s ?? null,
      max_duration_s: body.max_duration_s ?? null,
      heartbeat_timeout_s: body.heartbeat_timeout_s ?? null,
      deleted_at: null,
    };
    if (run.callback_url !== null) this.guard.checkUrl(run.callback_url);
    const requestHash = run.idempotency_key === null ? null : hashCreateRequest(run);

    return this.store.transaction(async (tx) => {
      const agent = await tx.agents.get(actor.organization_id, agentId);
      if (agent === undefined) throw new NotFoundError(`agent ${agentId} not found; register the agent first`);
      const inserted = await tx.runs.insert({ ...run, organization_id: actor.organization_id, request_hash: requestHash });
      if (!inserted) return replay(tx, actor, run.idempotency_key!, requestHash);
      // The log opens with the run's creation, so feeds show a new run the moment it exists.
      await tx.events.insertMany(actor.organization_id, [statusEvent(run, 1)]);
      await tx.metrics.insert({
        id: run.id,
        organization_id: actor.organization_id,
        agent_id: agentId,
        project_id: run.project_id,
        base_template_id: run.base_template_id,
        run_start_ns: wallClockNs(),
        run_ns: null,
        num_steps: 0,
        tools_used: [],
        prompt_tokens: 0,
        completion_tokens: 0,
        total_tokens: 0,
        cached_input_tokens: null,
        cache_write_tokens: null,
        reasoning_tokens: null,
      });
      await audit(tx, actor, "run.create", { run_id: run.id });
      return { run, created: true };
    });
  }

  async get(actor: Actor, runId: string): Promise<Run> {
    requireId("run", runId);
    const run = await this.store.read.runs.get(actor.organization_id, runId);
    if (run === undefined) throw runNotFound(runId);
    return run;
  }

  /** Runs matching the query, newest first unless `order` says otherwise. */
  async list(actor: Actor, input: RunListQuery = {}): Promise<Run[]> {
    const query = checkQuery(RunListSchema, input);
    const { filter, orderBy, percentile } = parseRunListQuery(query);
    const runs = this.store.read.runs;
    const page = await resolvePage({ ...query, order: effectiveOrder(query) }, "run", "desc", (id) =>
      runs.cursor(actor.organization_id, id, orderBy),
    );
    if (percentile !== undefined) {
      const threshold = await runs.durationPercentile(actor.organization_id, filter, percentile);
      if (threshold === undefined) return [];
      filter.duration_at_least = threshold;
    }
    return runs.list(actor.organization_id, filter, orderBy, page);
  }

  /**
   * Applies Letta's RunUpdate: a status change through the transition table, a shallow
   * metadata merge, timings and error details — in one transaction. Repeating the terminal
   * transition a run already made (same status and stop reason) returns the run unchanged.
   * Any update counts as a heartbeat.
   */
  async update(actor: Actor, runId: string, input: RunUpdateInput): Promise<Run> {
    requireWriter(actor);
    requireId("run", runId);
    const body = checkInput(RunUpdateSchema, input);
    const requested = body.status ?? undefined;
    const stopReason = body.stop_reason ?? undefined;
    const metadata = optionalJsonObject(body.metadata, "metadata");
    const set: Partial<RunColumns> = {};
    if (body.ttft_ns != null) set.ttft_ns = body.ttft_ns;
    if (body.total_duration_ns != null) set.total_duration_ns = body.total_duration_ns;
    if (body.completed_at != null) set.completed_at = parseTimestamp(body.completed_at, "completed_at");
    if (body.error != null) set.error = runError(body.error);

    let target: { status: RunStatus; stopReason: StopReason | null } | undefined;
    if (requested !== undefined && !isTerminal(requested)) {
      if (stopReason !== undefined) {
        throw new InvalidArgumentError(`stop_reason is only for terminal statuses (completed, failed, cancelled), not '${requested}'`);
      }
      target = { status: requested, stopReason: null };
    } else if (requested !== undefined || stopReason !== undefined) {
      const resolved = resolveTerminal(requested as Exclude<RunStatus, "created" | "running"> | undefined, stopReason);
      target = { status: resolved.status, stopReason: resolved.stopReason };
    }
    if (set.completed_at !== undefined && (target === undefined || !isTerminal(target.status))) {
      throw new InvalidArgumentError("completed_at can only be set together with a terminal status (completed, failed or cancelled)");
    }

    return this.store.transaction(async (tx) => {
      const run = await tx.runs.getForUpdate(actor.organization_id, runId);
      if (run === undefined) throw runNotFound(runId);
      const now = nowIso();
      if (metadata !== undefined) set.metadata = { ...run.metadata, ...metadata };
      if (target !== undefined && target.status !== run.status) {
        const moved = await transition(tx, run, {
          organizationId: actor.organization_id,
          status: target.status,
          stopReason: target.stopReason,
          now,
          set,
          telemetry: this.telemetry,
        });
        await audit(tx, actor, "run.update", { run_id: runId, details: { status: moved.status, stop_reason: moved.stop_reason } });
        return moved;
      }
      if (target !== undefined && isTerminal(run.status)) {
        // The same terminal status again: a producer's retry succeeds once, with nothing changed.
        if (target.stopReason === run.stop_reason) return run;
        throw transitionRejected(run, target.status, target.stopReason);
      }
      if (isTerminal(run.status) && (set.ttft_ns !== undefined || set.total_duration_ns !== undefined || set.error !== undefined)) {
        // Timings and error details describe the execution; once it has ended only metadata may change.
        throw new InvalidTransitionError(`run ${runId} has ended (${run.status}); only its metadata can still change`);
      }
      if (!isTerminal(run.status)) set.last_heartbeat_at = now;
      set.updated_at = now;
      const updated = await tx.runs.update(actor.organization_id, runId, set);
      if (updated === undefined) throw runNotFound(runId);
      await audit(tx, actor, "run.update", { run_id: runId, details: { fields: Object.keys(input).filter((k) => input[k as keyof RunUpdateInput] != null) } });
      return updated.run;
    });
  }

  /**
   * Cancels an active run at once (status cancelled, stop_reason cancelled). Cancelling a
   * run that has already ended returns it unchanged.
   */
  async cancel(actor: Actor, runId: string): Promise<Run> {
    requireWriter(actor);
    requireId("run", runId);
    return this.store.transaction(async (tx) => {
      const before = await tx.runs.getForUpdate(actor.organization_id, runId);
      const run = await cancelInTransaction(tx, this.telemetry, actor, runId);
      if (before !== undefined && !isTerminal(before.status)) await audit(tx, actor, "run.cancel", { run_id: runId });
      return run;
    });
  }

  /**
   * Cancels the given runs of an agent, or all its active runs. Returns each run's outcome:
   * `cancelled`, or `failed` when the run had already ended or is not the agent's.
   */
  async cancelAgentRuns(actor: Actor, agentId: string, runIds?: readonly string[] | null): Promise<Record<string, "cancelled" | "failed">> {
    requireWriter(actor);
    requireId("agent", agentId);
    const ids = runIds == null ? undefined : runIds.map((id) => requireId("run", id, "run_ids"));
    return this.store.transaction(async (tx) => {
      if ((await tx.agents.get(actor.organization_id, agentId)) === undefined) throw new NotFoundError(`agent ${agentId} not found`);
      const targets =
        ids ??
        (await tx.runs.list(actor.organization_id, { agent_ids: [agentId], statuses: [...ACTIVE_STATUSES] }, "created_at", { order: "asc", limit: 10_000 })).map(
          (r) => r.id,
        );
      const outcome: Record<string, "cancelled" | "failed"> = {};
      for (const id of targets) {
        const run = await tx.runs.getForUpdate(actor.organization_id, id);
        if (run === undefined || run.agent_id !== agentId || isTerminal(run.status)) {
          outcome[id] = "failed";
          continue;
        }
        await cancelInTransaction(tx, this.telemetry, actor, id);
        await audit(tx, actor, "run.cancel", { run_id: id, target_id: agentId });
        outcome[id] = "cancelled";
      }
      if (!Object.values(outcome).includes("cancelled")) {
        throw new ConflictError(`agent ${agentId} has no active run to cancel${ids ? " among the given run_ids" : ""}`);
      }
      return outcome;
    });
  }

  /** Records that the producer is alive. Returns the run, so a producer can notice a cancel. */
  async heartbeat(actor: Actor, runId: string): Promise<Run> {
    requireWriter(actor);
    requireId("run", runId);
    const now = nowIso();
    return this.store.transaction(async (tx) => {
      const updated = await tx.runs.update(actor.organization_id, runId, { last_heartbeat_at: now }, { fromStatuses: ACTIVE_STATUSES });
      if (updated !== undefined) return updated.run;
      const run = await tx.runs.get(actor.organization_id, runId);
      if (run === undefined) throw runNotFound(runId);
      return run;
    });
  }

  /**
   * Hides the run from every read; retention purges it later. An active run is cancelled
   * first (in the same transaction), so nothing is left running that no one can see.
   */
  async softDelete(actor: Actor, runId: string): Promise<void> {
    requireWriter(actor);
    requireId("run", runId);
    await this.store.transaction(async (tx) => {
      const run = await tx.runs.getForUpdate(actor.organization_id, runId);
      if (run === undefined) throw runNotFound(runId);
      if (!isTerminal(run.status)) await cancelInTransaction(tx, this.telemetry, actor, runId);
      const now = nowIso();
      await tx.runs.update(actor.organization_id, runId, { deleted_at: now, updated_at: now });
      await audit(tx, actor, "run.soft_delete", { run_id: runId });
    });
  }

  /** Deletes the run with its steps, messages, metrics and events, in one transaction. */
  async delete(actor: Actor, runId: string): Promise<void> {
    requireWriter(actor);
    requireId("run", runId);
    const deleted = await this.store.transaction(async (tx) => {
      if ((await tx.runs.get(actor.organization_id, runId)) === undefined) return false;
      await audit(tx, actor, "run.delete", { run_id: runId });
      return tx.runs.delete(actor.organization_id, runId);
    });
    if (!deleted) throw runNotFound(runId);
  }

  async metrics(actor: Actor, runId: string): Promise<RunMetrics> {
    await this.get(actor, runId);
    const metrics = await this.store.read.metrics.get(actor.organization_id, runId);
    if (metrics === undefined) throw runNotFound(runId);
    return metrics;
  }

  /** Token usage over every step of the run, read from running totals (constant time). */
  async usage(actor: Actor, runId: string): Promise<Usage> {
    const m = await this.metrics(actor, runId);
    return {
      completion_tokens: m.completion_tokens,
      prompt_tokens: m.prompt_tokens,
      total_tokens: m.total_tokens,
      step_count: m.num_steps,
      cached_input_tokens: m.cached_input_tokens,
      cache_write_tokens: m.cache_write_tokens,
      reasoning_tokens: m.reasoning_tokens,
      prompt_tokens_details: {
        cached_tokens: m.cached_input_tokens,
        cache_read_tokens: m.cached_input_tokens,
        cache_creation_tokens: m.cache_write_tokens,
      },
      completion_tokens_details: { reasoning_tokens: m.reasoning_tokens },
    };
  }
}

async function cancelInTransaction(tx: Repos, telemetry: Telemetry, actor: Actor, runId: string): Promise<Run> {
  const run = await tx.runs.getForUpdate(actor.organization_id, runId);
  if (run === undefined) throw runNotFound(runId);
  if (isTerminal(run.status)) return run;
  return cancelTransition(tx, run, actor.organization_id, telemetry);
}

async function replay(tx: Repos, actor: Actor, key: string, requestHash: string | null): Promise<{ run: Run; created: boolean }> {
  const existing = await tx.runs.findByIdempotencyKey(actor.organization_id, key);
  if (existing === undefined) throw new ConflictError(`idempotency key '${key}' is in use by a request still in progress; retry shortly`);
  if (existing.deleted) throw new ConflictError(`idempotency key '${key}' belonged to a run that has been deleted; use a new key`);
  if (existing.requestHash !== requestHash) {
    throw new ConflictError(`idempotency key '${key}' was already used with a different request body; use a new key for a new run`);
  }
  return { run: existing.run, created: false };
}

/** The fields that define a create request, in a fixed order, hashed for idempotency checks. */
function hashCreateRequest(run: Run): string {
  const fields = [
    run.agent_id, run.background, run.metadata, run.request_config, run.conversation_id, run.project_id,
    run.base_template_id, run.callback_url, run.tags, run.ttl_s, run.max_duration_s, run.heartbeat_timeout_s,
  ];
  return createHash("sha256").update(stableStringify(fields)).digest("hex");
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function runError(error: RunError): RunError {
  const result: RunError = { type: error.type, message: error.message };
  if (error.details !== undefined) {
    if (Buffer.byteLength(JSON.stringify(error.details)) > LIMITS.jsonBytes) throw new InvalidArgumentError(`error.details is larger than ${LIMITS.jsonBytes} bytes`);
    result.details = error.details as RunError["details"];
  }
  return result;
}

export function runNotFound(runId: string): NotFoundError {
  return new NotFoundError(`run ${runId} not found`);
}

