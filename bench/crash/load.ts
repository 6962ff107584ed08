/**
 * The steady load of the crash bench, over HTTP against real server processes:
 *
 * - producers, each doing full lifecycles one after another: create (callback URL,
 *   Idempotency-Key) → running → 1–3 steps with token usage → 2 appends of 2 messages →
 *   completed, failed or cancelled; 1 in 10 is abandoned after create or after its first
 *   step, for the reaper. Every write is retried until acknowledged (see journal.ts) with
 *   the same ids, so a write whose answer a crash swallowed is recognised on the retry.
 * - stream readers, each following one active run to its end, alternately on
 *   `GET /v1/runs/{id}/events` (resumed with Last-Event-ID) and Letta's
 *   `POST /v1/runs/{id}/stream` (resumed with starting_after).
 * - one reader of the organization feed `GET /v1/runs/events`, resumed with Last-Event-ID.
 */
import { randomUUID } from "node:crypto";
import type { EventSourceMessage } from "eventsource-parser";
import { type Answer, isOk, isTransient, sleep, type Traffic } from "./http.js";
import type { Journal, Plan, RunEntry } from "./journal.js";
import { readSse } from "./sse.js";

/** How long one write is retried before the bench gives up on it (and reports it). */
const WRITE_DEADLINE_MS = 120_000;
/** A stream that has not ended this long after it was opened is reported as unfinished. */
const FOLLOW_DEADLINE_MS = 90_000;

export interface LoadContext {
  traffic: Traffic;
  journal: Journal;
  /** The base URL for the next request (round-robin over the server processes). */
  pick: () => string;
  agentId: string;
  callbackUrl: string;
  authorization: string;
  /** Aborted when the load stops. */
  stop: AbortSignal;
  /** Writes given up after WRITE_DEADLINE_MS, and answers no retry explains (unexpected 4xx). */
  problems: string[];
}

type WriteResult = { kind: "ok"; body: unknown } | { kind: "present" } | { kind: "refused"; answer: Answer } | { kind: "gave-up" };

/**
 * Sends one write until it is acknowledged. `onConflict` decides what a 409 means when it
 * answers a retry (the first try may have landed): "present" when the server already has
 * the write, "refused" when it is really refused.
 */
async function write(
  ctx: LoadContext,
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
  onConflict: (answer: Answer) => Promise<"present" | "refused"> = async () => "refused",
): Promise<WriteResult> {
  const deadline = Date.now() + WRITE_DEADLINE_MS;
  let retry = false;
  for (;;) {
    const answer = await ctx.traffic.call(ctx.pick(), method, path, body, headers);
    if (isOk(answer.status)) return { kind: "ok", body: answer.body };
    if (answer.status === 409) {
      if (retry && (await onConflict(answer)) === "present") {
        ctx.journal.acknowledgedOnRetry++;
        return { kind: "present" };
      }
      return { kind: "refused", answer };
    }
    if (!isTransient(answer.status)) {
      ctx.problems.push(`${method} ${path}: HTTP ${String(answer.status)} ${JSON.stringify(answer.body).slice(0, 200)}`);
      return { kind: "refused", answer };
    }
    if (Date.now() > deadline) {
      ctx.problems.push(`${method} ${path}: not acknowledged within ${WRITE_DEADLINE_MS / 1000} s (last: ${String(answer.status)})`);
      return { kind: "gave-up" };
    }
    retry = true;
    const retryAfterS = Number(answer.headers?.get("retry-after") ?? "0");
    await sleep(answer.status === 503 ? Math.min(1_000, retryAfterS * 1000 || 200) : 100 + Math.random() * 150);
  }
}

async function runStatus(ctx: LoadContext, runId: string): Promise<string | undefined> {
  for (let i = 0; i < 50; i++) {
    const answer = await ctx.traffic.call(ctx.pick(), "GET", `/v1/runs/${runId}`);
    if (isOk(answer.status)) return (answer.body as { status: string }).status;
    if (!isTransient(answer.status)) return undefined;
    await sleep(200);
  }
  return undefined;
}

const alreadyExists = async (answer: Answer) => (/already exist/.test(JSON.stringify(answer.body)) ? "present" : "refused");

function pickPlan(n: number): Plan {
  const r = n % 20;
  if (r === 0) return "abandon-created";
  if (r === 10) return "abandon-running";
  if (r % 5 === 1) return "cancel";
  if (r % 5 === 3) return "fail";
  return "complete";
}

let lifecycleCounter = 0;

/** One lifecycle; returns when it is done, given up, or the run ended under it. */
async function lifecycle(ctx: LoadContext): Promise<void> {
  const n = lifecycleCounter++;
  const plan = pickPlan(n);
  const created = await write(
    ctx,
    "POST",
    "/v1/runs",
    { agent_id: ctx.agentId, callback_url: ctx.callbackUrl, metadata: { bench: "crash", lifecycle: n } },
    { "idempotency-key": randomUUID() },
  );
  if (created.kind !== "ok") return;
  const run = ctx.journal.addRun((created.body as { id: string }).id, plan);
  if (plan === "abandon-created") return;
  const running = await write(ctx, "PATCH", `/v1/runs/${run.id}`, { status: "running" }, {}, async () =>
    (await runStatus(ctx, run.id)) === "running" ? "present" : "refused",
  );
  if (!(await settled(ctx, run, running))) return;
  ctx.journal.acknowledged.transitions++;

  const steps = plan === "abandon-running" ? 1 : 1 + (n % 3);
  for (let i = 0; i < steps; i++) {
    const step = { id: `step-${randomUUID()}`, prompt_tokens: 100 + Math.floor(Math.random() * 900), completion_tokens: 1 + Math.floor(Math.random() * 200), acknowledged: false };
    run.steps.set(step.id, step);
    const result = await write(
      ctx,
      "POST",
      `/v1/runs/${run.id}/steps`,
      { id: step.id, model: "gpt-4o", prompt_tokens: step.prompt_tokens, completion_tokens: step.completion_tokens, status: "success" },
      {},
      alreadyExists,
    );
    if (!(await settled(ctx, run, result))) return;
    step.acknowledged = true;
    ctx.journal.acknowledged.steps++;
    await sleep(30 + Math.random() * 120);
  }
  if (plan === "abandon-running") return;

  for (let batch = 0; batch < 2; batch++) {
    const messages = [0, 1].map((i) => ({ id: `message-${randomUUID()}`, content: `crash ${run.id} ${batch}.${i} ${randomUUID()}`, acknowledged: false }));
    for (const m of messages) run.messages.set(m.id, m);
    const result = await write(
      ctx,
      "POST",
      `/v1/runs/${run.id}/messages`,
      { messages: messages.map((m) => ({ id: m.id, message_type: "assistant_message", content: m.content })) },
      {},
      alreadyExists,
    );
    if (!(await settled(ctx, run, result))) return;
    for (const m of messages) m.acknowledged = true;
    ctx.journal.acknowledged.messages += messages.length;
    await sleep(30 + Math.random() * 120);
  }

  const terminal =
    plan === "cancel" ? { status: "cancelled", stop_reason: "cancelled" } : plan === "fail" ? { status: "failed", stop_reason: "error" } : { status: "completed", stop_reason: "end_turn" };
  run.terminal = { ...terminal, acknowledged: false };
  const ended =
    plan === "cancel"
      ? await write(ctx, "POST", `/v1/runs/${run.id}/cancel`, {})
      : await write(ctx, "PATCH", `/v1/runs/${run.id}`, terminal, {}, async () => ((await runStatus(ctx, run.id)) === terminal.status ? "present" : "refused"));
  if (!(await settled(ctx, run, ended))) return;
  // Cancel is idempotent: on a run that had already ended (the reaper's), it answers 200 with the run as it is.
  const status = ended.kind === "ok" ? (ended.body as { status: string }).status : terminal.status;
  if (status !== terminal.status) {
    run.supersededBy = status;
    return;
  }
  run.terminal.acknowledged = true;
  ctx.journal.acknowledged.transitions++;
  ctx.journal.lifecycles++;
}

/** True when the write was acknowledged; otherwise notes why the lifecycle stops there. */
async function settled(ctx: LoadContext, run: RunEntry, result: WriteResult): Promise<boolean> {
  if (result.kind === "ok" || result.kind === "present") return true;
  if (result.kind === "refused") run.supersededBy = await runStatus(ctx, run.id);
  return false;
}

export async function producer(ctx: LoadContext): Promise<void> {
  while (!ctx.stop.aborted) await lifecycle(ctx);
}

// ---------------------------------------------------------------------------------------
// Followers.

export interface StreamRecord {
  runId: string;
  mode: "events" | "letta";
  /** seq_ids in the order they arrived, over every connection. */
  seqs: number[];
  /** Connections opened again (2xx) after one failed or closed early. */
  resumes: number;
  /** When each resume happened (ms, performance.now()). */
  resumedAt: number[];
  ended: boolean;
}

export interface FollowState {
  streams: StreamRecord[];
  following: Set<string>;
}

/** Runs that are worth following: created by a producer that is still working on them. */
function candidate(ctx: LoadContext, state: FollowState): string | undefined {
  const open = [...ctx.journal.runs.values()].slice(-40).filter((r) => r.plan !== "abandon-created" && r.terminal === undefined && !state.following.has(r.id));
  return open[Math.floor(Math.random() * open.length)]?.id;
}

export async function streamReader(ctx: LoadContext, state: FollowState, mode: "events" | "letta"): Promise<void> {
  while (!ctx.stop.aborted) {
    const runId = candidate(ctx, state);
    if (runId === undefined) {
      await sleep(50);
      continue;
    }
    state.following.add(runId);
    const record: StreamRecord = { runId, mode, seqs: [], resumes: 0, resumedAt: [], ended: false };
    state.streams.push(record);
    await follow(ctx, record);
  }
}

async function follow(ctx: LoadContext, record: StreamRecord): Promise<void> {
  const deadline = Date.now() + FOLLOW_DEADLINE_MS;
  let cursor = 0;
  let opened = false;
  const onOpen = () => {
    if (opened) {
      record.resumes++;
      record.resumedAt.push(performance.now());
    }
    opened = true;
  };
  while (Date.now() < deadline) {
    let done = false;
    const onEvent = (message: EventSourceMessage): "stop" | void => {
      if (record.mode === "events") {
        if (message.event === "end") {
          done = true;
          return "stop";
        }
        if (message.event === "error") return "stop";
        cursor = Number(message.id);
        record.seqs.push(cursor);
        return;
      }
      if (message.data === "[DONE]") {
        done = true;
        return "stop";
      }
      const data = JSON.parse(message.data) as { seq_id?: number; message_type?: string };
      if (data.message_type === "error_message") return "stop";
      if (typeof data.seq_id === "number") {
        cursor = data.seq_id;
        record.seqs.push(cursor);
      }
    };
    try {
      const base = ctx.pick();
      const controller = AbortSignal.timeout(Math.max(1_000, deadline - Date.now()));
      await readSse(
        record.mode === "events"
          ? { url: `${base}/v1/runs/${record.runId}/events`, headers: { authorization: ctx.authorization, ...(cursor > 0 ? { "last-event-id": String(cursor) } : {}) }, signal: controller, onOpen }
          : { url: `${base}/v1/runs/${record.runId}/stream`, method: "POST", body: { starting_after: cursor }, headers: { authorization: ctx.authorization }, signal: controller, onOpen },
        onEvent,
      );
    } catch {
      // The server went away mid-stream (or was not back yet): resume from the cursor.
    }
    if (done) {
      record.ended = true;
      return;
    }
    await sleep(100);
  }
}

export interface FeedRecord {
  /** Events in arrival order, as run_id:seq_id (the SSE id is a resume point, not the event's identity). */
  ids: string[];
  /** run_id → statuses seen in status events. */
  statuses: Map<string, string[]>;
  resumes: number;
  /** When the feed first said it was ready (ms, Date.now()). */
  readyAt: number | undefined;
}

/** Follows the organization feed until the load stops, resuming with Last-Event-ID. */
export async function feedReader(ctx: LoadContext, record: FeedRecord, stopFeed: AbortSignal): Promise<void> {
  let lastId: string | undefined;
  const onOpen = () => {
    if (record.readyAt === undefined) record.readyAt = Date.now();
    else record.resumes++;
  };
  while (!stopFeed.aborted) {
    try {
      await readSse(
        {
          url: `${ctx.pick()}/v1/runs/events`,
          headers: { authorization: ctx.authorization, ...(lastId ? { "last-event-id": lastId } : {}) },
          signal: stopFeed,
          onOpen,
        },
        (message) => {
          if (message.event === "error") return "stop";
          if (message.id === undefined) return;
          lastId = message.id;
          const data = JSON.parse(message.data) as { run_id?: string; seq_id?: number; status?: string };
          record.ids.push(`${data.run_id}:${data.seq_id}`);
          if (message.event === "status" && data.run_id !== undefined && data.status !== undefined) {
            const list = record.statuses.get(data.run_id) ?? [];
            list.push(data.status);
            record.statuses.set(data.run_id, list);
          }
        },
      );
    } catch {
      // resume below
    }
    await sleep(100);
  }
}
