import { expect, it } from "vitest";
import { forEachBackend } from "../support/fixtures.js";
import { storeOf } from "../../src/store/store.js";

forEachBackend("tenant isolation", (world) => {
  it("organization B can never read, list, count or change organization A's rows", async () => {
    const ledger = world().ledger;
    const a = await world().tenant();
    const b = await world().tenant();
    const agent = await a.agent();
    const run = await a.run({ agentId: agent.id, status: "running" });
    const step = await ledger.steps.record(a.writer, run.id, { prompt_tokens: 5 });
    const [message] = await ledger.messages.append(a.writer, run.id, [{ message_type: "user_message", content: "secret" }]);
    const notFound = { code: "NOT_FOUND" };

    // Reads.
    await expect(ledger.runs.get(b.reader, run.id)).rejects.toMatchObject(notFound);
    await expect(ledger.runs.usage(b.reader, run.id)).rejects.toMatchObject(notFound);
    await expect(ledger.runs.metrics(b.reader, run.id)).rejects.toMatchObject(notFound);
    await expect(ledger.steps.get(b.reader, step.id)).rejects.toMatchObject(notFound);
    await expect(ledger.steps.metrics(b.reader, step.id)).rejects.toMatchObject(notFound);
    await expect(ledger.steps.listForRun(b.reader, run.id)).rejects.toMatchObject(notFound);
    await expect(ledger.messages.list(b.reader, run.id)).rejects.toMatchObject(notFound);
    await expect(ledger.agents.get(b.reader, agent.id)).rejects.toMatchObject(notFound);
    // Lists and counts.
    expect(await ledger.runs.list(b.reader)).toEqual([]);
    expect(await ledger.runs.list(b.reader, { agent_id: agent.id })).toEqual([]);
    expect(await ledger.steps.list(b.reader)).toEqual([]);
    expect(await ledger.agents.list(b.reader)).toEqual([]);
    expect(await storeOf(ledger).read.runs.count(b.orgId, {})).toBe(0);
    expect(await storeOf(ledger).read.events.list(b.orgId, run.id, 0, 100)).toEqual([]);
    // A's ids are unknown cursors for B.
    await expect(ledger.runs.list(b.reader, { after: run.id })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(ledger.steps.list(b.reader, { after: step.id })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(ledger.agents.list(b.reader, { after: agent.id })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    // Writes.
    await expect(ledger.runs.create(b.writer, { agent_id: agent.id })).rejects.toMatchObject(notFound);
    await expect(ledger.runs.update(b.writer, run.id, { status: "completed" })).rejects.toMatchObject(notFound);
    await expect(ledger.runs.update(b.writer, run.id, { metadata: { x: 1 } })).rejects.toMatchObject(notFound);
    await expect(ledger.runs.cancel(b.writer, run.id)).rejects.toMatchObject(notFound);
    await expect(ledger.runs.heartbeat(b.writer, run.id)).rejects.toMatchObject(notFound);
    await expect(ledger.runs.cancelAgentRuns(b.writer, agent.id)).rejects.toMatchObject(notFound);
    await expect(ledger.runs.softDelete(b.writer, run.id)).rejects.toMatchObject(notFound);
    await expect(ledger.runs.delete(b.writer, run.id)).rejects.toMatchObject(notFound);
    await expect(ledger.steps.record(b.writer, run.id, {})).rejects.toMatchObject(notFound);
    await expect(ledger.steps.finish(b.writer, run.id, step.id, { status: "success" })).rejects.toMatchObject(notFound);
    await expect(ledger.steps.setFeedback(b.writer, step.id, { feedback: "negative" })).rejects.toMatchObject(notFound);
    await expect(ledger.messages.append(b.writer, run.id, [{ message_type: "user_message", content: "x" }])).rejects.toMatchObject(notFound);
    await expect(ledger.agents.update(b.writer, agent.id, { name: "stolen" })).rejects.toMatchObject(notFound);
    await expect(ledger.agents.delete(b.writer, agent.id)).rejects.toMatchObject(notFound);

    // A's rows are exactly as A left them.
    expect(await ledger.runs.get(a.reader, run.id)).toMatchObject({ status: "running", metadata: {} });
    expect(await ledger.steps.get(a.reader, step.id)).toEqual(step);
    expect(await ledger.messages.list(a.reader, run.id)).toEqual([message]);
    expect((await ledger.agents.get(a.reader, agent.id)).name).toBe(agent.name);
    expect((await ledger.runs.usage(a.reader, run.id)).prompt_tokens).toBe(5);
  });
});
