/**
 * The checks after the load: what the database holds against the journal, the receiver's
 * log and the followers' records. Each finding is a violation of a named kind.
 *
 * The usage rule. A run's usage (prompt, completion, total tokens, step_count) must equal
 * the sum over the steps the database holds for it, and those steps must include every
 * acknowledged step and nothing but acknowledged steps and steps in doubt (sent, answer
 * lost). So usage is at least the acknowledged sum and at most that plus the steps in doubt,
 * and always exactly the stored steps' sum.
 */
import { isOk, isTransient, sleep, type Traffic } from "./http.js";
import type { Journal, RunEntry } from "./journal.js";
import type { FeedRecord, StreamRecord } from "./load.js";
import type { Receiver } from "./receiver.js";
import { readSse } from "./sse.js";

export class Violations {
  readonly byKind = new Map<string, string[]>();

  add(kind: string, detail: string): void {
    const list = this.byKind.get(kind) ?? [];
    list.push(detail);
    this.byKind.set(kind, list);
  }

  get total(): number {
    let n = 0;
    for (const list of this.byKind.values()) n += list.length;
    return n;
  }
}

export interface Reader {
  traffic: Traffic;
  base: () => string;
  authorization: string;
}

/** A GET that must succeed (the servers are up by now); retried through restarts and blips. */
export async function getJson<T>(reader: Reader, path: string, key?: string): Promise<T> {
  for (let i = 0; ; i++) {
    const answer = await reader.traffic.call(reader.base(), "GET", path, undefined, {}, key);
    if (isOk(answer.status)) return answer.body as T;
    if (!isTransient(answer.status) || i > 100) throw new Error(`GET ${path}: ${String(answer.status)} ${JSON.stringify(answer.body).slice(0, 200)}`);
    await sleep(200);
  }
}

interface StoredRun {
  id: string;
  status: string;
  stop_reason: string | null;
}
interface StoredStep {
  id: string;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}
interface StoredMessage {
  id: string;
  content?: string;
}
interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  step_count: number;
}

/** Polls until no run of the organization is active, up to `timeoutMs`; returns those left. */
export async function waitNoActiveRuns(reader: Reader, timeoutMs: number): Promise<StoredRun[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const active = await getJson<StoredRun[]>(reader, "/v1/runs/?active=true&limit=1000");
    if (active.length === 0 || Date.now() > deadline) return active;
    await sleep(250);
  }
}

export interface RunFigures {
  reaped: Map<string, number>;
  inDoubtSteps: { present: number; absent: number };
  inDoubtMessages: { present: number; absent: number };
  finalStatus: Map<string, string>;
}

/** Every acknowledged write is present, nothing unknown is, and usage adds up. */
export async function checkRuns(reader: Reader, journal: Journal, violations: Violations): Promise<RunFigures> {
  const figures: RunFigures = { reaped: new Map(), inDoubtSteps: { present: 0, absent: 0 }, inDoubtMessages: { present: 0, absent: 0 }, finalStatus: new Map() };
  for (const entry of journal.runs.values()) {
    const run = await reader.traffic.call(reader.base(), "GET", `/v1/runs/${entry.id}`);
    if (run.status === 404) {
      violations.add("run missing", entry.id);
      continue;
    }
    const stored = await getJson<StoredRun>(reader, `/v1/runs/${entry.id}`);
    figures.finalStatus.set(entry.id, stored.status);
    if (stored.stop_reason === "expired" || stored.stop_reason === "heartbeat_lost" || stored.stop_reason === "timed_out") {
      figures.reaped.set(stored.stop_reason, (figures.reaped.get(stored.stop_reason) ?? 0) + 1);
    }
    if (entry.terminal?.acknowledged && (stored.status !== entry.terminal.status || stored.stop_reason !== entry.terminal.stop_reason)) {
      violations.add("terminal status lost", `${entry.id}: acknowledged ${entry.terminal.status}/${entry.terminal.stop_reason}, stored ${stored.status}/${stored.stop_reason}`);
    }
    await checkSteps(reader, entry, violations, figures);
    await checkMessages(reader, entry, violations, figures);
  }
  return figures;
}

async function checkSteps(reader: Reader, entry: RunEntry, violations: Violations, figures: RunFigures): Promise<void> {
  const steps = await getJson<StoredStep[]>(reader, `/v1/runs/${entry.id}/steps?limit=1000`);
  const usage = await getJson<Usage>(reader, `/v1/runs/${entry.id}/usage`);
  const stored = new Map(steps.map((s) => [s.id, s]));
  for (const step of entry.steps.values()) {
    const found = stored.get(step.id);
    if (!step.acknowledged) {
      figures.inDoubtSteps[found ? "present" : "absent"]++;
      continue;
    }
    if (found === undefined) violations.add("step missing", `${entry.id} ${step.id}`);
    else if (found.prompt_tokens !== step.prompt_tokens || found.completion_tokens !== step.completion_tokens) {
      violations.add("step tokens changed", `${entry.id} ${step.id}: sent ${step.prompt_tokens}/${step.completion_tokens}, stored ${found.prompt_tokens}/${found.completion_tokens}`);
    }
  }
  for (const step of steps) if (!entry.steps.has(step.id)) violations.add("step unknown", `${entry.id} ${step.id}`);
  const sum = (field: "prompt_tokens" | "completion_tokens" | "total_tokens") => steps.reduce((n, s) => n + s[field], 0);
  if (
    usage.prompt_tokens !== sum("prompt_tokens") ||
    usage.completion_tokens !== sum("completion_tokens") ||
    usage.total_tokens !== sum("total_tokens") ||
    usage.step_count !== steps.length
  ) {
    violations.add(
      "usage differs from steps",
      `${entry.id}: usage ${usage.prompt_tokens}/${usage.completion_tokens}/${usage.total_tokens} over ${usage.step_count}, steps ${sum("prompt_tokens")}/${sum("completion_tokens")}/${sum("total_tokens")} over ${steps.length}`,
    );
  }
}

async function checkMessages(reader: Reader, entry: RunEntry, violations: Violations, figures: RunFigures): Promise<void> {
  const messages = await getJson<StoredMessage[]>(reader, `/v1/runs/${entry.id}/messages?limit=1000`);
  const stored = new Map(messages.map((m) => [m.id, m]));
  for (const message of entry.messages.values()) {
    const found = stored.get(message.id);
    if (!message.acknowledged) {
      figures.inDoubtMessages[found ? "present" : "absent"]++;
      continue;
    }
    if (found === undefined) violations.add("message missing", `${entry.id} ${message.id}`);
    else if (found.content !== message.content) violations.add("message content changed", `${entry.id} ${message.id}`);
  }
  for (const message of messages) if (!entry.messages.has(message.id)) violations.add("message unknown", `${entry.id} ${message.id}`);
}

export interface WebhookFigures {
  deliveries: number;
  forcedFailures: number;
  duplicates: number;
  waitedMs: number;
}

/** Every ended run (all runs by now) was delivered at least once, always under one webhook-id. */
export async function checkWebhooks(receiver: Receiver, journal: Journal, finalStatus: Map<string, string>, violations: Violations, timeoutMs: number): Promise<WebhookFigures> {
  const t0 = Date.now();
  const delivered = () => new Set(receiver.deliveries.filter((d) => d.answered === 200).map((d) => d.runId));
  while (Date.now() - t0 < timeoutMs && [...journal.runs.keys()].some((id) => !delivered().has(id))) await sleep(250);
  const ok = delivered();
  const idsByRun = new Map<string, Set<string>>();
  const okById = new Map<string, number>();
  for (const d of receiver.deliveries) {
    const ids = idsByRun.get(d.runId) ?? new Set<string>();
    ids.add(d.webhookId);
    idsByRun.set(d.runId, ids);
    if (d.answered === 200) okById.set(d.webhookId, (okById.get(d.webhookId) ?? 0) + 1);
    const final = finalStatus.get(d.runId);
    if (final !== undefined && d.status !== final) violations.add("webhook status differs", `${d.runId}: webhook ${d.status}, run ${final}`);
  }
  for (const id of journal.runs.keys()) if (!ok.has(id)) violations.add("webhook missing", id);
  for (const [runId, ids] of idsByRun) if (ids.size > 1) violations.add("webhook ids differ", `${runId}: ${[...ids].join(", ")}`);
  let duplicates = 0;
  for (const n of okById.values()) duplicates += n - 1;
  return {
    deliveries: receiver.deliveries.filter((d) => d.answered === 200).length,
    forcedFailures: receiver.deliveries.filter((d) => d.answered !== 200).length,
    duplicates,
    waitedMs: Date.now() - t0,
  };
}

/** The run's whole event log: seq_id and kind of every event, read to its end. */
async function fullLog(reader: Reader, runId: string): Promise<{ seq: number; kind: string }[]> {
  for (let attempt = 0; ; attempt++) {
    const events: { seq: number; kind: string }[] = [];
    try {
      const outcome = await readSse(
        { url: `${reader.base()}/v1/runs/${runId}/events`, headers: { authorization: reader.authorization }, signal: AbortSignal.timeout(15_000) },
        (message) => {
          if (message.event === "end") return "stop";
          if (message.id !== undefined && message.event !== undefined) events.push({ seq: Number(message.id), kind: message.event });
        },
      );
      if (outcome === "stopped") return events;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
    await sleep(200);
  }
}

export interface StreamFigures {
  followed: number;
  ended: number;
  resumes: number;
  resumedStreams: number;
  events: number;
}

/** Each followed stream, resumed across every restart, has every seq_id of its kinds exactly once. */
export async function checkStreams(reader: Reader, streams: readonly StreamRecord[], violations: Violations): Promise<StreamFigures> {
  const figures: StreamFigures = { followed: streams.length, ended: 0, resumes: 0, resumedStreams: 0, events: 0 };
  for (const stream of streams) {
    figures.resumes += stream.resumes;
    if (stream.resumes > 0) figures.resumedStreams++;
    figures.events += stream.seqs.length;
    if (!stream.ended) {
      violations.add("stream never ended", `${stream.mode} ${stream.runId}`);
      continue;
    }
    figures.ended++;
    const log = await fullLog(reader, stream.runId);
    const expected = log.filter((e) => stream.mode === "events" || e.kind === "message" || e.kind === "chunk").map((e) => e.seq);
    const seen = new Set<number>();
    for (const seq of stream.seqs) {
      if (seen.has(seq)) violations.add("stream duplicate", `${stream.mode} ${stream.runId} seq ${seq}${stream.resumes > 0 ? " (resumed)" : ""}`);
      seen.add(seq);
    }
    const missing = expected.filter((seq) => !seen.has(seq));
    if (missing.length > 0) violations.add("stream gap", `${stream.mode} ${stream.runId}: missing ${missing.join(",")} after ${stream.resumes} resumes`);
    const known = new Set(expected);
    const extra = [...seen].filter((seq) => !known.has(seq));
    if (extra.length > 0) violations.add("stream event unknown", `${stream.mode} ${stream.runId}: ${extra.join(",")}`);
    for (let i = 1; i < stream.seqs.length; i++) {
      if (stream.seqs[i]! <= stream.seqs[i - 1]!) {
        violations.add("stream out of order", `${stream.mode} ${stream.runId} at ${i}`);
        break;
      }
    }
  }
  return figures;
}

/** The organization feed: no event twice, and the end of every run created while it listened. */
export function checkFeed(feed: FeedRecord, journal: Journal, finalStatus: Map<string, string>, violations: Violations): { events: number; resumes: number; runsChecked: number } {
  const seen = new Set<string>();
  for (const id of feed.ids) {
    if (seen.has(id)) violations.add("organization feed duplicate", `event ${id} (run:seq)`);
    seen.add(id);
  }
  let runsChecked = 0;
  for (const entry of journal.runs.values()) {
    if (feed.readyAt === undefined || entry.createdAt < feed.readyAt + 500) continue;
    const final = finalStatus.get(entry.id);
    if (final === undefined) continue;
    runsChecked++;
    if (!(feed.statuses.get(entry.id) ?? []).includes(final)) violations.add("organization feed missed an end", `${entry.id} (${final})`);
  }
  return { events: feed.ids.length, resumes: feed.resumes, runsChecked };
}
