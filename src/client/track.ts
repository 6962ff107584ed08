/**
 * `track()` wraps one execution of agent code in a run:
 *
 *   created ─(track starts)─► running ─(fn resolves)─► completed (end_turn, or ctx.stop_reason)
 *                                 ├────(fn throws)────► failed (error, with the error's details)
 *                                 └────(cancelled anywhere)─► cancelled: ctx.signal aborts
 *
 * It heartbeats while fn runs, measures time to first token and total duration, and fires
 * ctx.signal when the run is cancelled from anywhere — the API, the CLI, another process.
 * It works in-process on a Ledger or over HTTP with a RunledgerClient.
 */
import { InvalidTransitionError } from "../core/errors.js";
import type { LettaMessage } from "../core/letta-messages.js";
import type { Actor, JsonObject, Run, Step } from "../core/model.js";
import type { StopReason } from "../core/run-lifecycle.js";
import type { Ledger } from "../ledger.js";
import type { RunCreateInput, RunUpdateInput } from "../services/runs.js";
import type { StepFinishInput, StepInput } from "../services/steps.js";
import { RunledgerClient } from "./http-client.js";

/** Thrown by track() when the run was cancelled while the agent code ran. */
export class RunCancelledError extends Error {
  constructor(readonly runId: string) {
    super(`run ${runId} was cancelled`);
    this.name = "RunCancelledError";
  }
}

/** The operations track() needs, over either transport. */
interface RunSink {
  create(input: RunCreateInput): Promise<Run>;
  update(runId: string, input: RunUpdateInput): Promise<Run>;
  heartbeat(runId: string): Promise<Run>;
  recordStep(runId: string, input: StepInput): Promise<Step>;
  finishStep(runId: string, stepId: string, input: StepFinishInput): Promise<Step>;
  appendMessages(runId: string, messages: readonly object[]): Promise<LettaMessage[]>;
  appendChunks(runId: string, chunks: readonly object[]): Promise<unknown>;
  /** Calls onCancel once when the run becomes cancelled; returns a function that stops watching. */
  watchCancel(runId: string, onCancel: () => void, onError: (error: unknown) => void): () => void;
}

export interface TrackOptions extends RunCreateInput {
  /** How often to heartbeat while the agent code runs (default 10 s). */
  heartbeatIntervalMs?: number;
  /** Where background faults (a failed heartbeat) are reported; they never stop the run. */
  onError?: (error: unknown) => void;
}

export interface TrackedRun {
  readonly id: string;
  readonly run: Run;
  /** Aborts when the run is cancelled from anywhere. */
  readonly signal: AbortSignal;
  /** Records a step (an LLM call); the first one with completion tokens marks the first token if not marked yet. */
  step(input: StepInput): Promise<Step>;
  finishStep(stepId: string, input: StepFinishInput): Promise<Step>;
  messages(messages: readonly object[]): Promise<LettaMessage[]>;
  /** Streams raw chunks (token deltas); the first one marks the time to first token. */
  chunks(chunks: readonly object[]): Promise<void>;
  /** Marks the time to first token now (only the first call counts). */
  firstToken(): void;
  /** Merges metadata into the run. */
  metadata(patch: JsonObject): Promise<Run>;
  /** The stop reason recorded when the agent code returns (default end_turn). */
  stopReason: StopReason;
}

export type TrackTarget = { ledger: Ledger; actor: Actor } | RunledgerClient;

export async function track<T>(target: TrackTarget, options: TrackOptions, fn: (run: TrackedRun) => Promise<T>): Promise<T> {
  const sink = target instanceof RunledgerClient ? httpSink(target) : ledgerSink(target.ledger, target.actor);
  const { heartbeatIntervalMs = 10_000, onError = () => {}, ...input } = options;
  const started = process.hrtime.bigint();
  const elapsedNs = () => Number(process.hrtime.bigint() - started);
  const created = await sink.create(input);
  const run = await sink.update(created.id, { status: "running" });

  const controller = new AbortController();
  let cancelled = false;
  const markCancelled = () => {
    if (cancelled) return;
    cancelled = true;
    controller.abort(new RunCancelledError(run.id));
  };
  const stopWatching = sink.watchCancel(run.id, markCancelled, onError);
  const heartbeat = setInterval(() => {
    sink.heartbeat(run.id).then((current) => {
      if (current.status === "cancelled") markCancelled();
    }, onError);
  }, heartbeatIntervalMs);

  let ttftNs: number | undefined;
  const firstToken = () => {
    ttftNs ??= elapsedNs();
  };
  const context: TrackedRun = {
    id: run.id,
    run,
    signal: controller.signal,
    stopReason: "end_turn",
    async step(step) {
      if ((step.completion_tokens ?? 0) > 0) firstToken();
      return sink.recordStep(run.id, step);
    },
    finishStep: (stepId, finish) => sink.finishStep(run.id, stepId, finish),
    messages: (messages) => sink.appendMessages(run.id, messages),
    async chunks(chunks) {
      firstToken();
      await sink.appendChunks(run.id, chunks);
    },
    firstToken,
    metadata: (patch) => sink.update(run.id, { metadata: patch }),
  };

  try {
    let result: T;
    try {
      result = await fn(context);
    } catch (error) {
      if (cancelled) throw new RunCancelledError(run.id);
      await finish(sink, run.id, {
        status: "failed",
        stop_reason: "error",
        total_duration_ns: elapsedNs(),
        ttft_ns: ttftNs,
        error: describeError(error),
      }).catch(onError);
      throw error;
    }
    if (cancelled) throw new RunCancelledError(run.id);
    const outcome = await finish(sink, run.id, { status: "completed", stop_reason: context.stopReason, total_duration_ns: elapsedNs(), ttft_ns: ttftNs });
    if (outcome === "cancelled") {
      markCancelled();
      throw new RunCancelledError(run.id);
    }
    return result;
  } finally {
    clearInterval(heartbeat);
    stopWatching();
  }
}

/** Ends the run; reports "cancelled" when a cancel got there first (cancel wins). */
async function finish(sink: RunSink, runId: string, update: RunUpdateInput): Promise<"done" | "cancelled"> {
  try {
    await sink.update(runId, update);
    return "done";
  } catch (error) {
    if (error instanceof InvalidTransitionError && /cancelled/.test(error.message)) return "cancelled";
    throw error;
  }
}

function describeError(error: unknown): { type: string; message: string; details?: JsonObject } {
  if (error instanceof Error) {
    return { type: error.name, message: error.message.slice(0, 16_000), details: error.stack ? { stack: error.stack.slice(0, 8_000) } : undefined };
  }
  return { type: typeof error, message: String(error).slice(0, 16_000) };
}

function ledgerSink(ledger: Ledger, actor: Actor): RunSink {
  return {
    create: (input) => ledger.runs.create(actor, input),
    update: (runId, input) => ledger.runs.update(actor, runId, input),
    heartbeat: (runId) => ledger.runs.heartbeat(actor, runId),
    recordStep: (runId, input) => ledger.steps.record(actor, runId, input),
    finishStep: (runId, stepId, input) => ledger.steps.finish(actor, runId, stepId, input),
    appendMessages: (runId, messages) => ledger.messages.append(actor, runId, messages),
    appendChunks: (runId, chunks) => ledger.feeds.appendChunks(actor, runId, chunks),
    watchCancel(runId, onCancel, onError) {
      // Notices arrive for this process's writes and, on PostgreSQL, every other process's.
      let checking = false;
      const check = () => {
        if (checking) return;
        checking = true;
        ledger.runs.get(actor, runId).then(
          (run) => {
            checking = false;
            if (run.status === "cancelled") onCancel();
          },
          (error: unknown) => {
            checking = false;
            onError(error);
          },
        );
      };
      const stopRun = ledger.bus.subscribeRun(runId, check);
      const stopResync = ledger.bus.onResync(check);
      return () => {
        stopRun();
        stopResync();
      };
    },
  };
}

function httpSink(client: RunledgerClient): RunSink {
  return {
    create: (input) => client.createRun(input),
    update: (runId, input) => client.updateRun(runId, input),
    heartbeat: (runId) => client.heartbeat(runId),
    recordStep: (runId, input) => client.recordStep(runId, input),
    finishStep: (runId, stepId, input) => client.finishStep(runId, stepId, input),
    appendMessages: (runId, messages) => client.appendMessages(runId, messages),
    appendChunks: (runId, chunks) => client.appendChunks(runId, chunks),
    watchCancel(runId, onCancel, onError) {
      const controller = new AbortController();
      client
        .watchStatus(runId, (status) => {
          if (status === "cancelled") onCancel();
        }, controller.signal)
        .catch(onError);
      return () => controller.abort();
    },
  };
}
