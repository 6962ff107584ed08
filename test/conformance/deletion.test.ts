import { expect, it } from "vitest";
import { forEachBackend, type World } from "../support/fixtures.js";
import { storeOf } from "../../src/store/store.js";

async function rowCounts(world: World, runId: string) {
  const count = async (table: string, column: string) =>
    Number((await storeOf(world.ledger).driver.get<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE ${column} = ?`, [runId]))!.n);
  return {
    runs: await count("runs", "id"),
    run_metrics: await count("run_metrics", "id"),
    steps: await count("steps", "run_id"),
    messages: await count("messages", "run_id"),
    run_events: await count("run_events", "run_id"),
  };
}

forEachBackend("deletion", (world) => {
  async function fullRun() {
    const t = await world().tenant();
    const run = await t.run({ status: "running" });
    await world().ledger.steps.record(t.writer, run.id, { prompt_tokens: 1 });
    await world().ledger.messages.append(t.writer, run.id, [{ message_type: "user_message", content: "hi" }]);
    await world().ledger.runs.update(t.writer, run.id, { status: "completed" });
    return { t, run };
  }

  it("hard delete removes the run with its metrics, steps, messages and events", async () => {
    const { t, run } = await fullRun();
    const other = await t.run({ status: "running" });
    expect(await rowCounts(world(), run.id)).toEqual({ runs: 1, run_metrics: 1, steps: 1, messages: 1, run_events: 5 });
    await world().ledger.runs.delete(t.writer, run.id);
    expect(await rowCounts(world(), run.id)).toEqual({ runs: 0, run_metrics: 0, steps: 0, messages: 0, run_events: 0 });
    await expect(world().ledger.runs.get(t.reader, run.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(world().ledger.runs.delete(t.writer, run.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await world().ledger.runs.get(t.reader, other.id)).status).toBe("running");
  });

  it("soft delete hides the run from every read but keeps its rows", async () => {
    const { t, run } = await fullRun();
    await world().ledger.runs.softDelete(t.writer, run.id);
    await expect(world().ledger.runs.get(t.reader, run.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(world().ledger.messages.list(t.reader, run.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await world().ledger.runs.list(t.reader)).toEqual([]);
    expect(await world().ledger.steps.list(t.reader)).toEqual([]);
    expect((await rowCounts(world(), run.id)).runs).toBe(1);
  });

  it("deleting an agent deletes its runs and everything under them", async () => {
    const { t, run } = await fullRun();
    await world().ledger.agents.delete(t.writer, run.agent_id);
    expect(await rowCounts(world(), run.id)).toEqual({ runs: 0, run_metrics: 0, steps: 0, messages: 0, run_events: 0 });
    await expect(world().ledger.agents.get(t.reader, run.agent_id)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

forEachBackend("soft deletion of an active run", (world) => {
  it("cancels it first, so nothing invisible keeps running", async () => {
    const t = await world().tenant();
    const run = await t.run({ status: "running" });
    await world().ledger.runs.softDelete(t.writer, run.id);
    const row = await storeOf(world().ledger).driver.get<{ status: string; stop_reason: string; deleted_at: string | null }>(
      "SELECT status, stop_reason, deleted_at FROM runs WHERE id = ?",
      [run.id],
    );
    expect(row).toMatchObject({ status: "cancelled", stop_reason: "cancelled" });
    expect(row!.deleted_at).not.toBeNull();
  });
});
