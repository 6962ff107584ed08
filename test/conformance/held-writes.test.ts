import { expect, it } from "vitest";
import { storeOf } from "../../src/store/store.js";
import { forEachBackend } from "../support/fixtures.js";
import { statementsDuring } from "../support/pg-statements.js";

const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, cached_input_tokens: null, cache_write_tokens: null, reasoning_tokens: null };

forEachBackend("held writes", (world) => {
  it("on PostgreSQL, a step costs BEGIN, the run's lock, the step, one statement for the rest, and COMMIT", async (context) => {
    if (world().backend !== "postgres") context.skip();
    const t = await world().tenant();
    const run = await t.run({ status: "running" });
    const sent = await statementsDuring(() => world().ledger.steps.record(t.writer, run.id, { model: "m", prompt_tokens: 3 }));
    expect(sent).toHaveLength(5);
    expect(sent.at(-2)).toMatch(/^WITH w0 AS \(UPDATE run_metrics[\s\S]*INSERT INTO run_events[\s\S]*INSERT INTO audit_log[\s\S]*SELECT 1$/);
    expect((await world().ledger.runs.usage(t.reader, run.id)).prompt_tokens).toBe(3);
  });

  it("writes to one table in one transaction all land, each seeing the one before", async () => {
    const t = await world().tenant();
    const run = await t.run({ status: "running" });
    const store = storeOf(world().ledger);
    await store.driver.run("DELETE FROM run_metrics WHERE id = ?", [run.id]);
    await store.transaction(async (tx) => {
      const metrics = { id: run.id, organization_id: t.orgId, agent_id: run.agent_id, project_id: null, base_template_id: null, run_start_ns: 1, tools_used: [] };
      await tx.metrics.insert({ ...metrics, ...usage, run_ns: null, num_steps: 0 });
      await tx.metrics.addUsage(run.id, usage, 1);
      await tx.metrics.addUsage(run.id, usage, 1);
      await tx.metrics.recordTransition(run.id, "completed", 42);
    });
    const after = await world().ledger.runs.metrics(t.reader, run.id);
    expect(after).toMatchObject({ num_steps: 2, prompt_tokens: 20, total_tokens: 30, run_ns: 42 });
  });

  it("a held write that fails rolls back the whole transaction", async () => {
    const t = await world().tenant();
    const run = await t.run({ status: "running" });
    const store = storeOf(world().ledger);
    const event = { run_id: run.id, seq_id: 2, kind: "status" as const, created_at: new Date().toISOString(), event: { type: "x" } };
    await expect(
      store.transaction(async (tx) => {
        await tx.metrics.recordTransition(run.id, "completed", 7);
        // seq_id 2 is the run's `running` event already: the insert violates the log's uniqueness.
        await tx.events.insertMany(t.orgId, [event]);
      }),
    ).rejects.toThrow();
    expect((await world().ledger.runs.metrics(t.reader, run.id)).run_ns).toBeNull();
  });
});
