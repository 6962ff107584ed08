/**
 * What goes into a run's durable event log. Every change to a run appends one event with
 * the next seq_id in the same transaction as the change, so a subscriber that replays the
 * log from any seq_id sees exactly what happened, in order.
 */
import type { LettaMessage } from "../core/letta-messages.js";
import type { JsonObject, Run, RunEvent, Step } from "../core/model.js";

export function statusEvent(run: Run, seqId: number): RunEvent {
  return {
    run_id: run.id,
    seq_id: seqId,
    kind: "status",
    created_at: run.updated_at,
    event: {
      type: "run_status",
      run_id: run.id,
      seq_id: seqId,
      status: run.status,
      stop_reason: run.stop_reason,
      completed_at: run.completed_at,
      cancel_requested_at: run.cancel_requested_at,
    },
  };
}

export function stepEvent(step: Step, seqId: number): RunEvent {
  return {
    run_id: step.run_id,
    seq_id: seqId,
    kind: "step",
    created_at: step.updated_at,
    event: { type: "step", run_id: step.run_id, seq_id: seqId, step: step as unknown as JsonObject },
  };
}

export function messageEvent(message: LettaMessage): RunEvent {
  return {
    run_id: message.run_id,
    seq_id: message.seq_id,
    kind: "message",
    created_at: message.date,
    event: message as unknown as JsonObject,
  };
}
