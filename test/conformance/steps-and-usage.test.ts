import { expect, it } from "vitest";
import { InvalidTransitionError } from "../../src/core/errors.js";
import { forEachBackend } from "../support/fixtures.js";
import { storeOf } from "../../src/store/store.js";

forEachBackend("steps and usage", (world) => {
  it("sums usage over more than 50 steps, incrementally and exactly", async () => {
    const t = await world().tenant();
    const run = await t.run({ status: "running" });
    const ledger = world().ledger;
    let prompt = 0;
    let completion = 0;
    let cached = 0;
    for (let i = 1; i <= 60; i++) {
      await ledger.steps.record(t.writer, run.id, {
        status: "success",
        prompt_tokens: i,
        completion_tokens: 2 * i,
        cached_input_tokens: i % 2 === 0 ? i : null,
        model: "gpt-x",
      });
      prompt += i;
      completion += 2 * i;
      if (i % 2 === 0) cached += i;
    }
    const usage = await ledger.runs.usage(t.reader, run.id);
    expect(usage).toEqual({
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      step_count: 60,
      cached_input_tokens: cached,
      cache_write_tokens: null,
      reasoning_tokens: null,
      prompt_tokens_details: { cached_tokens: cached, cache_read_tokens: cached, cache_creation_tokens: null },
      completion_tokens_details: { reasoning_tokens: null },
    });
    const steps = await ledger.steps.listForRun(t.reader, run.id, { limit: 1000 });
    expect(steps).toHaveLength(60);
    expect(steps.reduce((sum, s) => sum + s.total_tokens, 0)).toBe(usage.total_tokens);
    expect((await ledger.runs.metrics(t.reader, run.id)).num_steps).toBe(60);
  });

  it("finishing a step moves the run's totals by the difference and is idempotent", async () => {
    const t = await world().tenant();
    const run = await t.run({ status: "running" });
    const ledger = world().ledger;
    const step = await ledger.steps.record(t.writer, run.id, { prompt_tokens: 10, model: "m", provider_name: "openai" });
    expect(step).toMatchObject({ status: "pending", prompt_tokens: 10, completion_tokens: 0, total_tokens: 10, run_id: run.id, agent_id: run.agent_id });
    const done = await ledger.steps.finish(t.writer, run.id, step.id, {
      status: "success",
      completion_tokens: 5,
      reasoning_tokens: 3,
      llm_request_ns: 1000,
      step_ns: 2000,
    });
    expect(done).toMatchObject({ status: "success", prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, reasoning_tokens: 3 });
    expect(await ledger.runs.usage(t.reader, run.id)).toMatchObject({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, reasoning_tokens: 3, step_count: 1 });
    expect(await ledger.steps.finish(t.writer, run.id, step.id, { status: "success" })).toEqual(done);
    await expect(ledger.steps.finish(t.writer, run.id, step.id, { status: "failed" })).rejects.toBeInstanceOf(InvalidTransitionError);
    expect(await ledger.steps.metrics(t.reader, step.id)).toMatchObject({ id: step.id, run_id: run.id, llm_request_ns: 1000, step_ns: 2000 });
    expect((await ledger.runs.usage(t.reader, run.id)).total_tokens).toBe(15);
  });

  it("refuses steps on runs that have ended, and counts a step as a heartbeat", async () => {
    const t = await world().tenant();
    const ledger = world().ledger;
    const run = await t.run({ status: "running" });
    await storeOf(ledger).driver.run("UPDATE runs SET last_heartbeat_at = ? WHERE id = ?", ["2020-01-01T00:00:00.000Z", run.id]);
    await ledger.steps.record(t.writer, run.id, {});
    expect(Date.parse((await ledger.runs.get(t.reader, run.id)).last_heartbeat_at!)).toBeGreaterThan(Date.parse("2021-01-01"));
    await ledger.runs.cancel(t.writer, run.id);
    const error = await ledger.steps.record(t.writer, run.id, { prompt_tokens: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidTransitionError);
    expect((error as Error).message).toContain("cancelled");
    expect((await ledger.runs.usage(t.reader, run.id)).step_count).toBe(1);
  });

  it("rejects a duplicate step id and malformed fields without writing", async () => {
    const t = await world().tenant();
    const ledger = world().ledger;
    const run = await t.run({ status: "running" });
    const step = await ledger.steps.record(t.writer, run.id, {});
    await expect(ledger.steps.record(t.writer, run.id, { id: step.id })).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(ledger.steps.record(t.writer, run.id, { prompt_tokens: -1 })).rejects.toMatchObject({ code: "VALIDATION_ERROR", problems: ["prompt_tokens must be >= 0"] });
    await expect(ledger.steps.record(t.writer, run.id, { status: "done" as never })).rejects.toMatchObject({ code: "VALIDATION_ERROR" });
    await expect(ledger.steps.record(t.writer, run.id, { bogus: 1 } as never)).rejects.toThrow(/bogus/);
    expect((await ledger.runs.usage(t.reader, run.id)).step_count).toBe(1);
  });

  it("lists steps across the organization by agent, model, feedback, tags and dates, with feedback set and cleared", async () => {
    const t = await world().tenant();
    const ledger = world().ledger;
    const a = await t.agent();
    const b = await t.agent();
    const runA = await t.run({ agentId: a.id, status: "running" });
    const runB = await t.run({ agentId: b.id, status: "running" });
    const s1 = await ledger.steps.record(t.writer, runA.id, { model: "m1", tags: ["x"], trace_id: "tr-1" });
    const s2 = await ledger.steps.record(t.writer, runA.id, { model: "m2" });
    const s3 = await ledger.steps.record(t.writer, runB.id, { model: "m1", tags: ["x", "y"] });
    const ids = async (q: object) => (await ledger.steps.list(t.reader, q)).map((s) => s.id).sort();
    expect(await ids({})).toEqual([s1.id, s2.id, s3.id].sort());
    expect(await ids({ agent_id: a.id })).toEqual([s1.id, s2.id].sort());
    expect(await ids({ model: "m1" })).toEqual([s1.id, s3.id].sort());
    expect(await ids({ tags: ["x", "y"] })).toEqual([s3.id]);
    expect(await ids({ trace_ids: ["tr-1"] })).toEqual([s1.id]);
    expect(await ids({ start_date: "2999-01-01T00:00:00Z" })).toEqual([]);
    await ledger.steps.setFeedback(t.writer, s2.id, { feedback: "positive" });
    expect(await ids({ feedback: "positive" })).toEqual([s2.id]);
    expect(await ids({ has_feedback: false })).toEqual([s1.id, s3.id].sort());
    await ledger.steps.setFeedback(t.writer, s2.id, { feedback: null });
    expect(await ids({ has_feedback: true })).toEqual([]);
    const pageOne = await ledger.steps.list(t.reader, { limit: 2, order: "asc" });
    const pageTwo = await ledger.steps.list(t.reader, { limit: 2, order: "asc", after: pageOne[1]!.id });
    expect([...pageOne, ...pageTwo].map((s) => s.id).sort()).toEqual([s1.id, s2.id, s3.id].sort());
  });
});
