/**
 * Many followers of one run: each gets every event after its own cursor exactly once and
 * in order, they share one read per notice, and followers that get no notices at all (a
 * writer in another process on the same SQLite file) still keep up by polling.
 */
import { setMaxListeners } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Actor, RunEvent, RunEventKind } from "../../src/core/model.js";
import type { RunStatus } from "../../src/core/run-lifecycle.js";
import { openLedger, type Ledger } from "../../src/ledger.js";
import { forEachBackend } from "../support/fixtures.js";
import { waitFor } from "../support/wait.js";
import { storeOf } from "../../src/store/store.js";

interface Follower {
  seen: RunEvent[];
  ended: Promise<RunStatus | undefined>;
}

/** One AbortController stops many followers here, each listening to its signal. */
function stopper(): AbortController {
  const controller = new AbortController();
  setMaxListeners(100, controller.signal);
  return controller;
}

async function follow(ledger: Ledger, actor: Actor, runId: string, after: number, signal: AbortSignal, options: { kinds?: RunEventKind[]; pollIntervalMs?: number; batchSize?: number } = {}): Promise<Follower> {
  const events = await ledger.feeds.followRun(actor, runId, after, { signal, ...options });
  const seen: RunEvent[] = [];
  const ended = (async () => {
    let next = await events.next();
    while (!next.done) {
      seen.push(next.value);
      next = await events.next();
    }
    return next.value;
  })();
  return { seen, ended };
}

const say = (content: string) => [{ message_type: "assistant_message", content }];

forEachBackend("many followers of one run", (world) => {
  it("each follower gets every event after its cursor once, in order, and ends with the run", async () => {
    const { ledger } = world();
    const tenant = await world().tenant();
    const run = await tenant.run({ status: "running" });
    for (let i = 0; i < 3; i++) await ledger.messages.append(tenant.writer, run.id, say(`before ${i}`));
    const stop = stopper();
    const fromStart = await Promise.all(Array.from({ length: 10 }, () => follow(ledger, tenant.reader, run.id, 0, stop.signal)));
    const fromSecond = await Promise.all(Array.from({ length: 10 }, () => follow(ledger, tenant.reader, run.id, 2, stop.signal)));
    const messagesOnly = await Promise.all(Array.from({ length: 10 }, () => follow(ledger, tenant.reader, run.id, 0, stop.signal, { kinds: ["message"] })));

    // Writes in flight together, so notices arrive while followers are still reading.
    await Promise.all(Array.from({ length: 4 }, (_, batch) => (async () => {
      for (let i = 0; i < 5; i++) await ledger.messages.append(tenant.writer, run.id, say(`live ${batch}.${i}`));
    })()));
    await ledger.runs.update(tenant.writer, run.id, { status: "completed", stop_reason: "end_turn" });

    const all = await storeOf(ledger).read.events.list(tenant.orgId, run.id, 0, 1_000);
    expect(all.filter((e) => e.kind === "message")).toHaveLength(3 + 20);
    const seqs = (events: readonly RunEvent[]) => events.map((e) => e.seq_id);
    for (const follower of [...fromStart, ...fromSecond, ...messagesOnly]) expect(await follower.ended).toBe("completed");
    for (const follower of fromStart) expect(seqs(follower.seen)).toEqual(seqs(all));
    for (const follower of fromSecond) expect(seqs(follower.seen)).toEqual(seqs(all.filter((e) => e.seq_id > 2)));
    for (const follower of messagesOnly) expect(seqs(follower.seen)).toEqual(seqs(all.filter((e) => e.kind === "message")));
    stop.abort();
  });

  it("a write costs one read of the run's events, however many follow it", async () => {
    const { ledger } = world();
    const tenant = await world().tenant();
    const run = await tenant.run({ status: "running" });
    const start = (await storeOf(ledger).read.events.list(tenant.orgId, run.id, 0, 1_000)).at(-1)!.seq_id;
    const stop = stopper();
    // A long poll interval: only notices wake these followers.
    const followers = await Promise.all(Array.from({ length: 50 }, () => follow(ledger, tenant.reader, run.id, start, stop.signal, { pollIntervalMs: 60_000 })));
    await ledger.messages.append(tenant.writer, run.id, say("first"));
    await waitFor("every follower to get the first message", () => followers.every((f) => f.seen.length === 1));

    const repo = storeOf(ledger).read.events;
    const list = repo.list;
    let reads = 0;
    repo.list = (...args) => {
      reads += 1;
      return list.apply(repo, args);
    };
    try {
      await ledger.messages.append(tenant.writer, run.id, say("second"));
      await waitFor("every follower to get the second message", () => followers.every((f) => f.seen.length === 2));
    } finally {
      repo.list = list;
    }
    expect(reads).toBe(1);
    stop.abort();
    await Promise.all(followers.map((f) => f.ended));
  });
});

describe("followers without notices", () => {
  it("keep up by polling when another process writes to the same SQLite file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "runledger-followers-"));
    const stop = stopper();
    const url = `sqlite:${join(dir, "ledger.db")}`;
    const server = await openLedger({ url });
    const other = await openLedger({ url });
    try {
      const org = await server.organizations.createTrusted("o");
      const actor: Actor = { organization_id: org.id, role: "write" };
      const agent = await server.agents.create(actor, { name: "a" });
      const run = await server.runs.create(actor, { agent_id: agent.id });
      await server.runs.update(actor, run.id, { status: "running" });
      // Batches of one: a follower reads again as soon as it took an event, so each has read
      // (and kept) "nothing after the start" before the other process writes.
      // From after seq 1 (the run's creation), so the first event each reads is its start.
      const followers = await Promise.all(Array.from({ length: 20 }, () => follow(server, actor, run.id, 1, stop.signal, { pollIntervalMs: 50, batchSize: 1 })));
      await waitFor("followers to read the run's start", () => followers.every((f) => f.seen.length === 1));

      for (let i = 0; i < 3; i++) await other.messages.append(actor, run.id, say(`from elsewhere ${i}`));
      // While the run is still active: a follower that sees its end re-reads everything anyway.
      await waitFor("every follower to poll the messages", () => followers.every((f) => f.seen.length === 4));
      await other.runs.update(actor, run.id, { status: "completed", stop_reason: "end_turn" });
      for (const follower of followers) {
        expect(await follower.ended).toBe("completed");
        expect(follower.seen.map((e) => e.kind)).toEqual(["status", "message", "message", "message", "status"]);
      }
    } finally {
      stop.abort();
      await other.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
