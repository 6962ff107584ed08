/**
 * Applies a status change to a run with every side effect in the caller's transaction: the
 * status copied into run_metrics; started_at on entering running; completed_at,
 * total_duration_ns, run_metrics.run_ns, the agent's last_* fields, the settling of pending
 * steps and the webhook delivery on entering a terminal status; and one status event. The
 * write itself is guarded on the run's current status (see core/run-lifecycle.ts), so of
 * concurrent transitions exactly one lands.
 */
import { InvalidTransitionError } from "../core/errors.js";
import type { Run } from "../core/model.js";
import type { Telemetry } from "../core/telemetry.js";
import { canTransition, isTerminal, type RunStatus, type StopReason, TRANSITIONS } from "../core/run-lifecycle.js";
import { durationNs, nowIso } from "../core/time.js";
import type { Repos } from "../store/repos.js";
import type { RunColumns } from "../store/repos/runs.js";
import { enqueueRunWebhook } from "../webhooks/outbox.js";
import { statusEvent } from "./run-events.js";

export interface TransitionRequest {
  organizationId: string;
  status: RunStatus;
  stopReason: StopReason | null;
  now: string;
  /** Other columns written in the same UPDATE (metadata, ttft_ns, error, …). */
  set?: Partial<RunColumns>;
  /** Hears the transition once it is made. */
  telemetry: Telemetry;
}

export function transitionRejected(run: Run, to: RunStatus, stopReason: StopReason | null): InvalidTransitionError {
  const target = stopReason ? `${to} (${stopReason})` : to;
  const current = run.stop_reason ? `${run.status} (${run.stop_reason})` : run.status;
  const hint = isTerminal(run.status) ? `; ${run.status} is terminal` : `; from ${run.status} a run may move to ${allowedFrom(run.status).join(", ")}`;
  return new InvalidTransitionError(`run ${run.id} cannot move from ${current} to ${target}${hint}`);
}

function allowedFrom(status: RunStatus): RunStatus[] {
  return (Object.keys(TRANSITIONS) as RunStatus[]).filter((to) => canTransition(status, to));
}

/**
 * Moves `run` (read under the row lock) to the requested status. Returns the updated run,
 * or throws InvalidTransitionError naming both states.
 */
export async function transition(tx: Repos, run: Run, request: TransitionRequest): Promise<Run> {
  const { status, stopReason, now } = request;
  if (!canTransition(run.status, status)) throw transitionRejected(run, status, stopReason);

  const set: Partial<RunColumns> = { ...request.set, status, updated_at: now };
  if (status === "running") {
    set.started_at = now;
    set.last_heartbeat_at = now;
  }
  if (isTerminal(status)) {
    set.stop_reason = stopReason;
    set.completed_at ??= now;
    set.total_duration_ns ??= durationNs(run.created_at, set.completed_at);
  }
  const updated = await tx.runs.update(request.organizationId, run.id, set, { fromStatuses: TRANSITIONS[status], events: 1 });
  // The row is locked (PostgreSQL) or the database is (SQLite), so the guard cannot fail
  // after the check above; if it ever does, report it as the conflict it is.
  if (updated === undefined) throw transitionRejected(run, status, stopReason);

  const after = updated.run;
  if (!isTerminal(after.status)) await tx.metrics.recordTransition(after.id, after.status);
  else {
    const runNs = after.total_duration_ns ?? durationNs(after.created_at, after.completed_at!);
    await tx.metrics.recordTransition(after.id, after.status, runNs);
    await tx.agents.recordRunEnd(after.agent_id, after.stop_reason!, after.completed_at!, Math.round(runNs / 1_000_000));
    if (after.status !== "completed") await tx.steps.settlePending(after.id, after.status, now);
    await enqueueRunWebhook(tx, request.organizationId, after, now);
  }
  await tx.events.insertMany(request.organizationId, [statusEvent(after, updated.lastSeqId)]);
  request.telemetry.runTransition(after.status);
  return after;
}

/** Cancels an active run at once (stop reason cancelled), noting when the cancel was asked for. */
export function cancelTransition(tx: Repos, run: Run, organizationId: string, telemetry: Telemetry): Promise<Run> {
  const now = nowIso();
  return transition(tx, run, { organizationId, status: "cancelled", stopReason: "cancelled", now, set: { cancel_requested_at: now }, telemetry });
}
