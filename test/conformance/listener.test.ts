/**
 * On PostgreSQL, two ledgers (as two processes would) share one schema: writes through one
 * wake followers of the other, and a follower keeps up across a dropped LISTEN connection.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/core/model.js";
import { openLedger, type Ledger } from "../../src/ledger.js";
import { BACKENDS, POSTGRES_URL, uniqueSchema } from "../support/backends.js";
import { waitFor } from "../support/wait.js";
import { storeOf } from "../../src/store/store.js";

describe.skipIf(!BACKENDS[1]!.available)("LISTEN/NOTIFY between ledgers", () => {
  const schema = uniqueSchema();
  let writer: Ledger;
  let reader: Ledger;

  beforeAll(async () => {
    writer = await openLedger({ url: `${POSTGRES_URL}?schema=${schema}` });
    reader = await openLedger({ url: `${POSTGRES_URL}?schema=${schema}`, onError: () => {} });
  });

  afterAll(async () => {
    await storeOf(writer).driver.run(`DROP SCHEMA ${schema} CASCADE`);
    await writer.close();
    await reader.close();
  });

  it("a follower on one ledger wakes for another's writes, and catches up after its LISTEN connection drops", async () => {
    const org = await writer.organizations.createTrusted("o");
    const actor = { organization_id: org.id, role: "write" as const };
    const agent = await writer.agents.create(actor, { name: "a" });
    const run = await writer.runs.create(actor, { agent_id: agent.id });
    const controller = new AbortController();
    // A long poll interval: only notices (or a resync) can deliver within the test's deadline.
    // From after seq 1, the run's creation: the test watches what is written from here on.
    const follower = await reader.feeds.followRun(actor, run.id, 1, { signal: controller.signal, pollIntervalMs: 60_000 });
    const seen: RunEvent[] = [];
    const consumed = (async () => {
      for await (const event of follower) seen.push(event);
    })();

    await writer.runs.update(actor, run.id, { status: "running" });
    await waitFor("the running event", () => seen.length === 1, 5_000);

    reader.listener!.simulateDisconnect();
    expect(reader.listener!.connected).toBe(false);
    await writer.messages.append(actor, run.id, [{ message_type: "user_message", content: "while disconnected" }]);
    await waitFor("the listener to reconnect", () => reader.listener!.connected, 10_000);
    await waitFor("the message written while disconnected", () => seen.length === 2, 5_000);

    await writer.runs.update(actor, run.id, { status: "completed" });
    await consumed;
    expect(seen.map((e) => e.kind)).toEqual(["status", "message", "status"]);
    controller.abort();
  });
});
