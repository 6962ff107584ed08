import { expect, it } from "vitest";
import { storeOf } from "../../src/store/store.js";
import { forEachBackend } from "../support/fixtures.js";
import { statementsDuring } from "../support/pg-statements.js";

const toolCall = (name: string, id: string) => ({ message_type: "tool_call_message", tool_call: { name, arguments: "{}", tool_call_id: id } });
const user = (content: string) => ({ message_type: "user_message", content });

forEachBackend("message append", (world) => {
  it("costs the same round trips on PostgreSQL for 1, 50 and 1,000 messages: BEGIN, one statement, COMMIT", async (context) => {
    if (world().backend !== "postgres") context.skip();
    const t = await world().tenant();
    const run = await t.run({ status: "running" });
    const ledger = world().ledger;
    const counts: number[] = [];
    let expectedSeq = 3;
    for (const size of [1, 50, 1_000]) {
      const batch = Array.from({ length: size }, (_, i) => (i % 10 === 3 ? toolCall(`tool_${i % 7}`, `call-${i}`) : user(`m${i}`)));
      let stored: { seq_id: number }[] = [];
      const sent = await statementsDuring(async () => {
        stored = await ledger.messages.append(t.writer, run.id, batch);
      });
      counts.push(sent.length);
      expect(stored.map((m) => m.seq_id)).toEqual(Array.from({ length: size }, (_, i) => expectedSeq + i));
      expectedSeq += size;
    }
    expect(counts).toEqual([3, 3, 3]);
    expect(await ledger.messages.list(t.reader, run.id, { limit: 1000, order: "desc" })).toHaveLength(1_000);
    const events = await storeOf(ledger).read.events.list(t.orgId, run.id, 0, 2_000, ["message"]);
    expect(events.map((e) => e.seq_id)).toEqual(Array.from({ length: 1_051 }, (_, i) => 3 + i));
  });

  it("adds each tool to tools_used once, in order of first use, across batches", async () => {
    const t = await world().tenant();
    const run = await t.run({ status: "running" });
    const ledger = world().ledger;
    await ledger.messages.append(t.writer, run.id, [toolCall("search", "c1"), toolCall("fetch", "c2"), toolCall("search", "c3")]);
    await ledger.messages.append(t.writer, run.id, [user("no tools here")]);
    await ledger.messages.append(t.writer, run.id, [toolCall("fetch", "c4"), toolCall("summarize", "c5")]);
    await ledger.messages.append(t.writer, run.id, [toolCall("search", "c6")]);
    expect((await ledger.runs.metrics(t.reader, run.id)).tools_used).toEqual(["search", "fetch", "summarize"]);
  });

  it("writes nothing of a refused batch: no message, event, sequence number, tool or audit row", async () => {
    const t = await world().tenant();
    const run = await t.run({ status: "running" });
    const other = await t.run({ status: "running" });
    const ledger = world().ledger;
    const foreignStep = await ledger.steps.record(t.writer, other.id, {});
    const [kept] = await ledger.messages.append(t.writer, run.id, [user("kept")]);
    const store = storeOf(ledger);
    const before = await store.read.events.list(t.orgId, run.id, 0, 100);
    await expect(ledger.messages.append(t.writer, run.id, [toolCall("x", "c1"), { ...user("y"), step_id: foreignStep.id }])).rejects.toThrow(
      `step_id ${foreignStep.id} is not a step of run ${run.id}`,
    );
    await expect(ledger.messages.append(t.writer, run.id, [toolCall("x", "c1"), { ...user("again"), id: kept!.id }])).rejects.toMatchObject({
      code: "CONFLICT",
    });
    expect(await store.read.events.list(t.orgId, run.id, 0, 100)).toEqual(before);
    expect((await ledger.runs.metrics(t.reader, run.id)).tools_used).toEqual([]);
    expect(await ledger.messages.list(t.reader, run.id)).toEqual([kept]);
    const next = await ledger.messages.append(t.writer, run.id, [user("next")]);
    expect(next[0]!.seq_id).toBe(kept!.seq_id + 1);
    const audited = await store.read.audit.list(t.orgId, { run_id: run.id, action: "messages.append" }, undefined, 10);
    expect(audited.map((a) => a.details)).toEqual([{ count: 1 }, { count: 1 }]);
  });

  it("refuses a run of another organization as not found, and writes nothing to it", async () => {
    const t = await world().tenant();
    const stranger = await world().tenant();
    const run = await t.run({ status: "running" });
    const ledger = world().ledger;
    await expect(ledger.messages.append(stranger.writer, run.id, [user("hi")])).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await ledger.messages.list(t.reader, run.id)).toEqual([]);
    expect((await ledger.runs.get(t.reader, run.id)).updated_at).toBe(run.updated_at);
  });
});
