/**
 * One scenario of the crash bench: server processes on one database under the steady load,
 * SIGKILLed at random moments and restarted (and, in the scale-out scenario, the database
 * restarted once), then the checks.
 */
import { randomBytes } from "node:crypto";
import { fmt } from "../stats.js";
import { checkFeed, checkRuns, checkStreams, checkWebhooks, type Reader, Violations, waitNoActiveRuns } from "./checks.js";
import { ServerFleet, type ThrowawayCluster } from "./cluster.js";
import { sleep, Traffic } from "./http.js";
import { Journal } from "./journal.js";
import { type FeedRecord, feedReader, type FollowState, type LoadContext, producer, streamReader } from "./load.js";
import { startReceiver } from "./receiver.js";
import { countsLine, latencyLine, type Section, statusCounts } from "./report.js";
import { cancelAcrossProcesses, checkSingleton, listenResync, probeDuringOutage, retentionProducer } from "./scaleout.js";

export interface ScenarioOptions {
  title: string;
  databaseUrl: string;
  processes: number;
  kills: number;
  seconds: number;
  /** The cluster to restart once mid-load (scale-out scenario only). */
  restartCluster?: ThrowawayCluster;
}

const PRODUCERS = 8;
const STREAM_READERS = 4;
const CANCEL_REPS = 10;
/** The least time the servers stay up between one fault's recovery and the next fault. */
const MIN_UP_MS = 5_000;

/** Liveness limits and retries short enough to see them act within the run. */
export const LIMITS = {
  RUNLEDGER_REAPER_INTERVAL: "500ms",
  RUNLEDGER_DEFAULT_TTL: "10s",
  // Longer than a restart takes on a busy machine (up to ~10 s from SIGKILL to /healthz), so
  // most producers caught by a kill finish their run; the abandoned ones are reaped.
  RUNLEDGER_DEFAULT_HEARTBEAT_TIMEOUT: "15s",
  RUNLEDGER_DEFAULT_MAX_DURATION: "60s",
  RUNLEDGER_WEBHOOK_RETRY_SCHEDULE: "200ms,500ms,1s,1s,2s,2s,2s,2s,2s,2s",
  RUNLEDGER_WEBHOOK_TIMEOUT: "2s",
  RUNLEDGER_RETENTION_INTERVAL: "1s",
};

export async function runScenario(options: ScenarioOptions): Promise<Section> {
  const adminKey = `rlk_crashbench01_${randomBytes(20).toString("hex")}`;
  const authorization = `Bearer ${adminKey}`;
  const traffic = new Traffic(authorization);
  const journal = new Journal();
  const violations = new Violations();
  const receiver = await startReceiver();
  const fleet = new ServerFleet({ DATABASE_URL: options.databaseUrl, RUNLEDGER_ADMIN_KEY: adminKey, RUNLEDGER_WEBHOOK_ALLOWLIST: "127.0.0.1", ...LIMITS });
  const figures: [string, string][] = [];
  const log = (line: string) => console.error(`  ${options.title}: ${line}`);
  try {
    await fleet.start(options.processes);
    const reader: Reader = { traffic, base: fleet.next, authorization };
    const agent = await post<{ id: string }>(traffic, fleet.url(0), "/v1/agents", { name: "crash bench" });

    const scaleOut = options.restartCluster !== undefined;
    const retention = scaleOut ? await retentionOrganization(traffic, fleet.url(0)) : undefined;

    const stop = new AbortController();
    const stopFeed = new AbortController();
    const ctx: LoadContext = { traffic, journal, pick: fleet.next, agentId: agent.id, callbackUrl: receiver.url, authorization, stop: stop.signal, problems: [] };
    const feed: FeedRecord = { ids: [], statuses: new Map(), resumes: 0, readyAt: undefined };
    const feeding = feedReader(ctx, feed, stopFeed.signal);
    while (feed.readyAt === undefined) await sleep(20);
    await sleep(500);

    const started = Date.now();
    const producers = Array.from({ length: PRODUCERS }, () => producer(ctx));
    const follow: FollowState = { streams: [], following: new Set() };
    const readers = Array.from({ length: STREAM_READERS }, (_, i) => streamReader(ctx, follow, i % 2 === 0 ? "events" : "letta"));
    const retaining = retention ? retentionProducer(traffic, fleet.next, retention.key, retention.agentId, stop.signal) : Promise.resolve(0);

    // The faults, spread over the load: kills at random moments, the database restart in the middle.
    const faults: ("kill" | "database")[] = Array.from({ length: options.kills }, () => "kill" as const);
    if (scaleOut) faults.splice(Math.floor(faults.length / 2), 0, "database");
    const slot = (options.seconds * 1000) / (faults.length + 1);
    const outage = { ms: 0, ready: true, listen: [] as number[] };
    let lastFaultEnd = started;
    for (let i = 0; i < faults.length; i++) {
      // A restart can take longer than a slot on a busy machine: leave the load some time up between faults.
      const at = Math.max(started + slot * (i + 0.5 + Math.random()), lastFaultEnd + MIN_UP_MS);
      if (at > Date.now()) await sleep(at - Date.now());
      if (faults[i] === "kill") {
        const index = Math.floor(Math.random() * fleet.size);
        log(`SIGKILL process ${index} at ${((Date.now() - started) / 1000).toFixed(1)} s`);
        await fleet.killAndRestart(index);
      } else {
        log(`restarting PostgreSQL at ${((Date.now() - started) / 1000).toFixed(1)} s`);
        const t0 = Date.now();
        traffic.beginOutage();
        let restarting = true;
        const probing = probeDuringOutage(traffic, fleet.urls(), `/v1/runs/?limit=1`, () => restarting);
        await options.restartCluster!.restart();
        outage.ready = await fleet.ready(30_000);
        restarting = false;
        await probing;
        traffic.endOutage();
        outage.ms = Date.now() - t0;
        if (!outage.ready) violations.add("process did not reconnect", "a process did not answer /readyz within 30 s of the restart");
        const listen = await listenResync(traffic, fleet.url(1 % fleet.size), fleet.url(0), authorization, agent.id, 20_000, violations);
        outage.listen = listen.latencies;
      }
      lastFaultEnd = Date.now();
    }
    const remaining = started + options.seconds * 1000 - Date.now();
    if (remaining > 0) await sleep(remaining);

    let cancels: Awaited<ReturnType<typeof cancelAcrossProcesses>> | undefined;
    if (scaleOut) {
      log("cancel across processes");
      cancels = await cancelAcrossProcesses(fleet.url(1), fleet.url(0), adminKey, agent.id, traffic, CANCEL_REPS);
      if (cancels.missed > 0) violations.add("cancel did not reach the producer", `${cancels.missed} of ${CANCEL_REPS} within 5 s`);
    }

    log(`load stops after ${((Date.now() - started) / 1000).toFixed(1)} s; waiting for the producers`);
    stop.abort();
    await Promise.all(producers);
    const retained = await retaining;
    const loadSeconds = (Date.now() - started) / 1000;

    log("waiting for the reaper to end every active run");
    const t0 = Date.now();
    const left = await waitNoActiveRuns(reader, 90_000);
    for (const run of left) violations.add("run left active", `${run.id} (${run.status})`);
    const activeWaitMs = Date.now() - t0;
    await Promise.all(readers);
    await sleep(1_000);
    stopFeed.abort();
    await feeding;

    log(`checking ${fmt(journal.runs.size)} runs`);
    const runs = await checkRuns(reader, journal, violations);
    const webhooks = await checkWebhooks(receiver, journal, runs.finalStatus, violations, 60_000);
    const streams = await checkStreams(reader, follow.streams, violations);
    const feedFigures = checkFeed(feed, journal, runs.finalStatus, violations);
    const workers = scaleOut
      ? [await checkSingleton(reader, authorization, "reaper", violations), await checkSingleton(reader, retention!.key, "retention", violations)]
      : [];

    for (const problem of ctx.problems) violations.add("write not acknowledged", problem);
    for (const failure of traffic.failures) violations.add(failure.includes(": timeout") ? "request timed out (10 s)" : "HTTP 500", failure);
    for (const crash of fleet.crashes) violations.add("server crashed", crash);
    for (const tally of traffic.outages) {
      for (const [status, n] of tally.counts) {
        if (status === 500) violations.add("HTTP 500 during the outage", `${n} responses`);
        if (status === "timeout") violations.add("hang during the outage (10 s)", `${n} requests`);
        if (status === "network") violations.add("connection failed during the outage", `${n} requests`);
      }
      if (tally.unexplained503 > 0) violations.add("503 without body or Retry-After", `${tally.unexplained503} responses`);
    }

    // Streams that resumed within 15 s after each restart answered again.
    const resumedAfter = fleet.restartedAt.map((at) => follow.streams.filter((s) => s.resumedAt.some((r) => r >= at - 15_000 && r <= at + 15_000)).length);
    if (fleet.kills > 0 && streams.resumes === 0) violations.add("no stream resumed", "the stream checks saw no resume after any restart");
    const ack = journal.acknowledged;
    figures.push(
      ["server processes", String(options.processes)],
      ["load", `${fmt(loadSeconds, 1)} s, ${PRODUCERS} producers, ${STREAM_READERS} stream readers, 1 organization feed reader`],
      ["lifecycles acknowledged end to end", fmt(journal.lifecycles)],
      ["acknowledged writes", `${fmt(ack.runs)} runs, ${fmt(ack.transitions)} transitions, ${fmt(ack.steps)} steps, ${fmt(ack.messages)} messages; ${fmt(journal.acknowledgedOnRetry)} acknowledged on a retry`],
      ["in doubt (sent, answer lost)", `steps ${runs.inDoubtSteps.present} present / ${runs.inDoubtSteps.absent} absent; messages ${runs.inDoubtMessages.present} present / ${runs.inDoubtMessages.absent} absent`],
      ["SIGKILLs (restart to /healthz)", `${fleet.kills} (${latencyLine(fleet.restartMs)})`],
      ["reaped runs", countsLine(runs.reaped)],
      ["wait until no run was active", `${fmt(activeWaitMs / 1000, 1)} s`],
      ["webhook deliveries answered 2xx", `${fmt(webhooks.deliveries)} for ${fmt(journal.runs.size)} runs; ${fmt(webhooks.duplicates)} duplicates (same webhook-id); ${fmt(webhooks.forcedFailures)} answered 500 on purpose`],
      ["streams followed", `${streams.followed} (${streams.ended} to their end, ${fmt(streams.events)} events); ${streams.resumes} resumes in ${streams.resumedStreams} streams`],
      ["streams resumed around each restart", resumedAfter.join(", ") || "-"],
      ["organization feed", `${fmt(feedFigures.events)} events, ${feedFigures.resumes} resumes, ends of ${feedFigures.runsChecked} runs checked`],
      ["responses by status", statusCounts(traffic.counts)],
    );
    if (scaleOut) {
      const tally = traffic.outages[0];
      figures.push(
        ["PostgreSQL restart (to every /readyz)", `${fmt(outage.ms / 1000, 1)} s; responses meanwhile: ${tally ? statusCounts(tally.counts) : "none"}; slowest ${fmt(tally?.slowestMs ?? 0)} ms`],
        ["follower latency after the restart (LISTEN)", outage.listen.map((l) => `${Number.isFinite(l) ? fmt(l) : "lost"} ms`).join(", ")],
        ["cancel on one process → AbortSignal on another", cancels ? `${latencyLine(cancels.latencies)}; missed ${cancels.missed}` : "-"],
        ...workers.map((w): [string, string] => [`${w.job}: sweeps / actions by instance`, `${countsLine(w.sweeps)} / ${countsLine(w.actions)}`]),
        ["retention runs written", fmt(retained)],
      );
    }
    return { title: options.title, figures, violations };
  } finally {
    await fleet.stop();
    await receiver.close();
  }
}

async function post<T>(traffic: Traffic, base: string, path: string, body: unknown, key?: string): Promise<T> {
  const answer = await traffic.call(base, "POST", path, body, {}, key);
  if (typeof answer.status !== "number" || answer.status >= 300) throw new Error(`POST ${path}: ${String(answer.status)} ${JSON.stringify(answer.body)}`);
  return answer.body as T;
}

/** A second organization whose ended runs the sweeper deletes (terminal_days 1), with its own admin key and agent. */
async function retentionOrganization(traffic: Traffic, base: string): Promise<{ key: string; agentId: string }> {
  const org = await post<{ id: string }>(traffic, base, "/v1/organizations", { name: "crash bench retention" });
  const created = await post<{ key: string }>(traffic, base, "/v1/api-keys", { organization_id: org.id, role: "admin", name: "crash bench retention" });
  const key = `Bearer ${created.key}`;
  const agent = await post<{ id: string }>(traffic, base, "/v1/agents", { name: "retention" }, key);
  const answer = await traffic.call(base, "PUT", "/v1/retention-policy", { terminal_days: 1 }, {}, key);
  if (answer.status !== 200) throw new Error(`PUT /v1/retention-policy: ${String(answer.status)} ${JSON.stringify(answer.body)}`);
  return { key, agentId: agent.id };
}
