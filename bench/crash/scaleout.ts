/**
 * What only several processes on one PostgreSQL database can show:
 *
 * - cancel across processes: track() over HTTP on one process, the cancel sent to another;
 *   the time from the cancel request to the producer's AbortSignal.
 * - singleton workers: the reaper's and the retention sweeper's audited sweeps (instance,
 *   start, end) never overlap between processes, and no reaped run was failed by one
 *   process inside another's sweep.
 * - a database restart: requests meanwhile fail with an explained 503 (never a hang or a
 *   500), every process answers /readyz again by itself, and a follower on one process
 *   hears a write made on another through LISTEN (its poll interval is 60 s).
 * - a retention producer in a second organization whose runs end "two days ago", so the
 *   sweeper has work in every interval.
 */
import { RunledgerClient } from "../../src/client/http-client.js";
import { RunCancelledError, track } from "../../src/client/track.js";
import { isOk, sleep, type Traffic } from "./http.js";
import { getJson, type Reader, type Violations } from "./checks.js";
import { readSse } from "./sse.js";

export interface CancelFigures {
  latencies: number[];
  missed: number;
}

/** `reps` times: track() on `producerUrl`, cancel on `cancelUrl`, time to the AbortSignal. */
export async function cancelAcrossProcesses(producerUrl: string, cancelUrl: string, apiKey: string, agentId: string, traffic: Traffic, reps: number): Promise<CancelFigures> {
  const client = new RunledgerClient({ baseUrl: producerUrl, apiKey, timeoutMs: 10_000 });
  const figures: CancelFigures = { latencies: [], missed: 0 };
  for (let i = 0; i < reps; i++) {
    await track(client, { agent_id: agentId, heartbeatIntervalMs: 1_000 }, async (run) => {
      const aborted = new Promise<number>((resolve) => run.signal.addEventListener("abort", () => resolve(performance.now()), { once: true }));
      // Lets track()'s status watch attach on the producer's process first.
      await sleep(300);
      const t0 = performance.now();
      await traffic.call(cancelUrl, "POST", `/v1/runs/${run.id}/cancel`, {});
      const at = await Promise.race([aborted, sleep(5_000).then(() => undefined)]);
      if (at === undefined) figures.missed++;
      else figures.latencies.push(at - t0);
    }).catch((error: unknown) => {
      if (!(error instanceof RunCancelledError)) figures.missed++;
    });
  }
  return figures;
}

interface AuditEntry {
  id: number;
  action: string;
  run_id: string | null;
  details: { instance?: string; started_at?: string; finished_at?: string; sweep_started_at?: string; runs?: number } | null;
  created_at: string;
}

async function auditEntries(reader: Reader, action: string, key: string): Promise<AuditEntry[]> {
  const all: AuditEntry[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await getJson<AuditEntry[]>(reader, `/v1/audit-log?action=${action}&limit=1000${before ? `&before=${before}` : ""}`, key);
    all.push(...page);
    if (page.length < 1000) return all;
    before = page[page.length - 1]!.id;
  }
}

export interface WorkerFigures {
  job: string;
  sweeps: Map<string, number>;
  actions: Map<string, number>;
}

/**
 * Reads `<job>.sweep` and its per-run/per-batch action entries and checks that sweeps of
 * different instances never overlap and no action of one instance falls in another's sweep.
 */
export async function checkSingleton(reader: Reader, key: string, job: "reaper" | "retention", violations: Violations): Promise<WorkerFigures> {
  const sweeps = (await auditEntries(reader, `${job}.sweep`, key)).map((e) => ({
    instance: e.details?.instance ?? "?",
    start: Date.parse(e.details?.started_at ?? e.created_at),
    end: Date.parse(e.details?.finished_at ?? e.created_at),
  }));
  const actions = await auditEntries(reader, job === "reaper" ? "run.reap" : "retention.delete", key);
  const figures: WorkerFigures = { job, sweeps: new Map(), actions: new Map() };
  for (const s of sweeps) figures.sweeps.set(s.instance, (figures.sweeps.get(s.instance) ?? 0) + 1);
  for (const a of actions) {
    const instance = a.details?.instance ?? "?";
    figures.actions.set(instance, (figures.actions.get(instance) ?? 0) + (job === "reaper" ? 1 : (a.details?.runs ?? 0)));
  }
  sweeps.sort((a, b) => a.start - b.start);
  for (let i = 0; i < sweeps.length; i++) {
    for (let j = i + 1; j < sweeps.length && sweeps[j]!.start < sweeps[i]!.end; j++) {
      if (sweeps[j]!.instance !== sweeps[i]!.instance) {
        violations.add(`${job} ran in two processes at once`, `${sweeps[i]!.instance} ${new Date(sweeps[i]!.start).toISOString()}–${new Date(sweeps[i]!.end).toISOString()} and ${sweeps[j]!.instance} from ${new Date(sweeps[j]!.start).toISOString()}`);
      }
    }
  }
  for (const a of actions) {
    const at = Date.parse(a.created_at);
    const other = sweeps.find((s) => s.instance !== a.details?.instance && s.start < at && at < s.end);
    if (other) violations.add(`${job} ran in two processes at once`, `${a.action} by ${a.details?.instance} at ${a.created_at} inside a sweep of ${other.instance}`);
  }
  if (sweeps.length === 0) violations.add(`${job} did nothing`, "no audited sweep to compare");
  return figures;
}

export interface ListenFigures {
  /** Write → follower latencies (ms) after the restart, in the order tried; Infinity when not within 5 s. */
  latencies: number[];
}

/**
 * After the database restart: a follower on `followerUrl` of a running run, on Letta's stream
 * with a 60 s poll interval, so that only a notice (LISTEN, or the resync after it
 * reconnects) can deliver within seconds; messages written through `writerUrl` until one
 * arrives within 5 s, up to `timeoutMs`.
 */
export async function listenResync(traffic: Traffic, followerUrl: string, writerUrl: string, authorization: string, agentId: string, timeoutMs: number, violations: Violations): Promise<ListenFigures> {
  const figures: ListenFigures = { latencies: [] };
  const created = await traffic.call(writerUrl, "POST", "/v1/runs", { agent_id: agentId });
  const runId = (created.body as { id: string }).id;
  await traffic.call(writerUrl, "PATCH", `/v1/runs/${runId}`, { status: "running" });
  const deadline = Date.now() + timeoutMs;
  const arrivals = new Map<string, number>();
  const controller = new AbortController();
  let open = false;
  const following = readSse(
    {
      url: `${followerUrl}/v1/runs/${runId}/stream`,
      method: "POST",
      body: { poll_interval: 60 },
      headers: { authorization },
      signal: controller.signal,
      onOpen: () => void (open = true),
    },
    (message) => {
      if (message.data === "[DONE]") return "stop";
      const data = JSON.parse(message.data) as { content?: string };
      if (data.content !== undefined) arrivals.set(data.content, performance.now());
    },
  ).catch(() => "failed");
  while (!open && Date.now() < deadline) await sleep(20);
  let delivered = false;
  for (let i = 0; Date.now() < deadline && !delivered; i++) {
    const content = `listen probe ${i}`;
    const t0 = performance.now();
    const answer = await traffic.call(writerUrl, "POST", `/v1/runs/${runId}/messages`, { messages: [{ message_type: "assistant_message", content }] });
    if (!isOk(answer.status)) {
      await sleep(200);
      continue;
    }
    while (!arrivals.has(content) && performance.now() - t0 < 5_000) await sleep(5);
    const at = arrivals.get(content);
    figures.latencies.push(at === undefined ? Number.POSITIVE_INFINITY : at - t0);
    delivered = at !== undefined;
  }
  if (!delivered) violations.add("LISTEN did not resync", `no write reached a follower on another process within 5 s (tries: ${figures.latencies.length})`);
  controller.abort();
  await following;
  await traffic.call(writerUrl, "PATCH", `/v1/runs/${runId}`, { status: "completed" });
  return figures;
}

/** Creates runs in the retention organization that ended two days ago, until `stop` aborts. */
export async function retentionProducer(traffic: Traffic, pick: () => string, key: string, agentId: string, stop: AbortSignal): Promise<number> {
  let written = 0;
  const twoDaysAgo = () => new Date(Date.now() - 2 * 86_400_000).toISOString();
  while (!stop.aborted) {
    const created = await traffic.call(pick(), "POST", "/v1/runs", { agent_id: agentId }, {}, key);
    if (isOk(created.status)) {
      const id = (created.body as { id: string }).id;
      const done = await traffic.call(pick(), "PATCH", `/v1/runs/${id}`, { status: "failed", stop_reason: "error", completed_at: twoDaysAgo() }, {}, key);
      if (isOk(done.status)) written++;
    }
    await sleep(200);
  }
  return written;
}

/** Sends a read to every process every 100 ms while `active()` holds (the outage), so each is counted. */
export async function probeDuringOutage(traffic: Traffic, urls: readonly string[], path: string, active: () => boolean): Promise<void> {
  const loops = urls.map(async (url) => {
    while (active()) {
      await traffic.call(url, "GET", path);
      await sleep(100);
    }
  });
  await Promise.all(loops);
}
