/**
 * Producers may name their own steps and messages. A taken id is a 409 CONFLICT however the
 * requests interleave, and an id is looked up only within the caller's organization.
 */
import { expect, it } from "vitest";
import { newId } from "../../src/core/ids.js";
import { forEachBackend } from "../support/fixtures.js";
import { storeOf } from "../../src/store/store.js";

const conflict = { code: "CONFLICT" };

/** Sends the same write to every run at once: exactly one may land, every other caller must get 409. */
async function expectOneWinner(runs: readonly { id: string }[], write: (runId: string) => Promise<unknown>): Promise<void> {
  const outcomes = await Promise.allSettled(runs.map((run) => write(run.id)));
  expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
  for (const o of outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected")) expect(o.reason).toMatchObject(conflict);
}

forEachBackend("client-supplied ids", (world) => {
  it("one id recorded on several runs at once: exactly one step lands, every other caller gets 409", async () => {
    const t = await world().tenant();
    const ledger = world().ledger;
    const runs = await Promise.all(Array.from({ length: 4 }, () => t.run({ status: "running" })));
    for (let round = 0; round < 5; round++) {
      const id = newId("step");
      await expectOneWinner(runs, (runId) => ledger.steps.record(t.writer, runId, { id, prompt_tokens: 1 }));
    }
    const usage = await Promise.all(runs.map((run) => ledger.runs.usage(t.reader, run.id)));
    expect(usage.reduce((sum, u) => sum + u.step_count, 0)).toBe(5);
  });

  it("one message id appended to several runs at once: exactly one batch lands, every other caller gets 409", async () => {
    const t = await world().tenant();
    const ledger = world().ledger;
    const runs = await Promise.all(Array.from({ length: 4 }, () => t.run({ status: "running" })));
    for (let round = 0; round < 5; round++) {
      const id = newId("message");
      const batch = [{ message_type: "user_message", content: "hi" }, { id, message_type: "user_message", content: "again" }];
      await expectOneWinner(runs, (runId) => ledger.messages.append(t.writer, runId, batch));
    }
    // A refused batch is refused whole: only the five winning batches are stored.
    const stored = await Promise.all(runs.map((run) => ledger.messages.list(t.reader, run.id)));
    expect(stored.flat()).toHaveLength(10);
  });

  it("an id taken in the caller's own organization is a 409 that says so", async () => {
    const t = await world().tenant();
    const ledger = world().ledger;
    const run = await t.run({ status: "running" });
    const step = await ledger.steps.record(t.writer, run.id, {});
    const [message] = await ledger.messages.append(t.writer, run.id, [{ message_type: "user_message", content: "hi" }]);
    await expect(ledger.steps.record(t.writer, run.id, { id: step.id })).rejects.toMatchObject({
      ...conflict,
      message: `step ${step.id} already exists; omit id to let the server assign one`,
    });
    await expect(ledger.messages.append(t.writer, run.id, [{ id: message!.id, message_type: "user_message", content: "x" }])).rejects.toMatchObject({
      ...conflict,
      message: `message ids already exist: ${message!.id}; omit id to let the server assign one`,
    });
  });

  it("whether an id exists is answered within the caller's organization only", async () => {
    const ledger = world().ledger;
    const a = await world().tenant();
    const b = await world().tenant();
    const run = await a.run({ status: "running" });
    const step = await ledger.steps.record(a.writer, run.id, {});
    const [message] = await ledger.messages.append(a.writer, run.id, [{ message_type: "user_message", content: "secret" }]);
    const read = storeOf(ledger).read;
    expect(await read.steps.exists(a.orgId, step.id)).toBe(true);
    expect(await read.steps.exists(b.orgId, step.id)).toBe(false);
    expect(await read.messages.existingIds(a.orgId, [message!.id])).toEqual([message!.id]);
    expect(await read.messages.existingIds(b.orgId, [message!.id])).toEqual([]);

    // B cannot use A's ids (they are global), and is not told they exist.
    const bRun = await b.run({ status: "running" });
    const refused = ledger.steps.record(b.writer, bRun.id, { id: step.id });
    await expect(refused).rejects.toMatchObject(conflict);
    await expect(refused).rejects.not.toMatchObject({ message: expect.stringContaining("exist") });
    const refusedMessages = ledger.messages.append(b.writer, bRun.id, [{ id: message!.id, message_type: "user_message", content: "x" }]);
    await expect(refusedMessages).rejects.toMatchObject(conflict);
    await expect(refusedMessages).rejects.not.toMatchObject({ message: expect.stringContaining("exist") });
    expect(await ledger.steps.get(a.reader, step.id)).toEqual(step);
    expect(await ledger.messages.list(a.reader, run.id)).toEqual([message]);
  });
});
