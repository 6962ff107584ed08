import { InvalidTransitionError } from "../core/errors.js";
import type { Actor, Run } from "../core/model.js";
import { ACTIVE_STATUSES } from "../core/run-lifecycle.js";
import type { Repos } from "../store/repos.js";
import { runNotFound } from "./runs.js";

/**
 * Takes an active run for a producer's write (a step, messages, stream chunks): locks its
 * row, counts the write as a heartbeat and reserves `events` stream sequence numbers. A run
 * that does not exist or has ended refuses the write with the reason.
 */
export async function lockActiveRun(
  tx: Repos,
  actor: Actor,
  runId: string,
  events: number,
  action: string,
  now: string,
): Promise<{ run: Run; lastSeqId: number }> {
  const locked = await tx.runs.update(
    actor.organization_id,
    runId,
    { last_heartbeat_at: now, updated_at: now },
    { fromStatuses: ACTIVE_STATUSES, events },
  );
  if (locked !== undefined) return locked;
  throw await inactiveRunError(tx, actor, runId, action);
}

/** Why a producer's write to the run was refused: it does not exist, or it has ended. */
export async function inactiveRunError(tx: Repos, actor: Actor, runId: string, action: string): Promise<Error> {
  const run = await tx.runs.get(actor.organization_id, runId);
  if (run === undefined) return runNotFound(runId);
  return new InvalidTransitionError(
    `cannot ${action}: run ${runId} has ended (${run.status}, stop_reason ${run.stop_reason}) and accepts no more steps, messages or chunks`,
  );
}
