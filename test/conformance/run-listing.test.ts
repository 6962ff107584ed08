import { beforeAll, expect, it } from "vitest";
import type { Run } from "../../src/core/model.js";
import type { RunListQuery } from "../../src/services/run-filters.js";
import { forEachBackend, type Tenant, type World } from "../support/fixtures.js";
import { storeOf } from "../../src/store/store.js";

/**
 * 300 runs over 3 agents where runs come in groups of 20 sharing one created_at, so every
 * page boundary falls inside a tie.
 */
async function seed(world: World, t: Tenant): Promise<{ runs: Run[]; agents: string[] }> {
  const agents = [(await t.agent("a")).id, (await t.agent("b")).id, (await t.agent("c")).id];
  const runs: Run[] = [];
  for (let i = 0; i < 300; i++) {
    runs.push(await world.ledger.runs.create(t.writer, { agent_id: agents[i % 3]!, background: i % 2 === 0 }));
  }
  const base = Date.parse("2026-01-01T00:00:00.000Z");
  for (const [i, run] of runs.entries()) {
    const createdAt = new Date(base + Math.floor(i / 20) * 1000).toISOString();
    await storeOf(world.ledger).driver.run("UPDATE runs SET created_at = ? WHERE id = ?", [createdAt, run.id]);
  }
  return { runs: await everything(world, t, { order: "asc" }), agents };
}

async function everything(world: World, t: Tenant, query: RunListQuery): Promise<Run[]> {
  return world.ledger.runs.list(t.reader, { ...query, limit: 1000 });
}

/** Pages with `after` from the start, the way Letta's client does, until an empty page. */
async function pageForward(world: World, t: Tenant, query: RunListQuery, limit: number): Promise<string[]> {
  const seen: string[] = [];
  let after: string | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const page = await world.ledger.runs.list(t.reader, { ...query, limit, after });
    if (page.length === 0) return seen;
    seen.push(...page.map((r) => r.id));
    after = page.at(-1)!.id;
  }
  throw new Error("paging did not end");
}

forEachBackend("run listing", (world) => {
  let t: Tenant;
  let runs: Run[];
  let agents: string[];

  beforeAll(async () => {
    t = await world().tenant();
    ({ runs, agents } = await seed(world(), t));
  });

  it("orders by created_at then id, newest first by default", async () => {
    const desc = await everything(world(), t, {});
    expect(desc).toHaveLength(300);
    const sorted = [...desc].sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1));
    expect(desc.map((r) => r.id)).toEqual(sorted.map((r) => r.id));
    expect((await everything(world(), t, { order: "asc" })).map((r) => r.id)).toEqual([...sorted].reverse().map((r) => r.id));
    expect((await everything(world(), t, { ascending: true })).map((r) => r.id)).toEqual([...sorted].reverse().map((r) => r.id));
    expect(await world().ledger.runs.list(t.reader)).toHaveLength(100);
  });

  for (const order of ["asc", "desc"] as const) {
    for (const limit of [1, 7, 20, 33, 300]) {
      it(`pages forward (${order}, limit ${limit}) without skipping or repeating across ties`, async () => {
        const ids = await pageForward(world(), t, { order }, limit);
        expect(ids).toEqual((await everything(world(), t, { order })).map((r) => r.id));
      });
    }

    it(`pages backward (${order}) from each page's first id to exactly the previous page`, async () => {
      const all = (await everything(world(), t, { order })).map((r) => r.id);
      const limit = 13;
      let before = all.at(-1)!;
      const collected: string[] = [before];
      for (let guard = 0; guard < 100; guard++) {
        const page = (await world().ledger.runs.list(t.reader, { order, limit, before })).map((r) => r.id);
        if (page.length === 0) break;
        const end = all.indexOf(before);
        expect(page).toEqual(all.slice(Math.max(0, end - limit), end));
        collected.unshift(...page);
        before = page[0]!;
      }
      expect(collected).toEqual(all);
    });
  }

  for (const order of ["asc", "desc"] as const) {
    it(`given after and before together (${order}), lists the items strictly between them, across ties`, async () => {
      const all = (await everything(world(), t, { order })).map((r) => r.id);
      for (const [from, to] of [[0, 299], [10, 11], [10, 12], [40, 120], [150, 160]] as const) {
        const between = (await world().ledger.runs.list(t.reader, { order, limit: 1000, after: all[from], before: all[to] })).map((r) => r.id);
        expect(between).toEqual(all.slice(from + 1, to));
      }
      // A limit keeps the first items after `after`.
      expect((await world().ledger.runs.list(t.reader, { order, limit: 5, after: all[20], before: all[200] })).map((r) => r.id)).toEqual(all.slice(21, 26));
      // Cursors the wrong way round select nothing.
      expect(await world().ledger.runs.list(t.reader, { order, after: all[50], before: all[40] })).toEqual([]);
    });
  }

  it("returns an empty page after the last item, and rejects unknown or malformed cursors", async () => {
    const last = (await everything(world(), t, {})).at(-1)!;
    expect(await world().ledger.runs.list(t.reader, { after: last.id })).toEqual([]);
    await expect(world().ledger.runs.list(t.reader, { after: "run-00000000-0000-4000-8000-000000000000" })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("cursor"),
    });
    await expect(world().ledger.runs.list(t.reader, { before: "nope" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(world().ledger.runs.list(t.reader, { limit: 0 })).rejects.toMatchObject({ code: "VALIDATION_ERROR", problems: ["limit must be >= 1"] });
    await expect(world().ledger.runs.list(t.reader, { limit: 1001 })).rejects.toMatchObject({ code: "VALIDATION_ERROR", problems: ["limit must be <= 1000"] });
  });

  it("filters by agent, agent_ids and background", async () => {
    const [a, b] = agents as [string, string];
    const byAgent = await everything(world(), t, { agent_id: a });
    expect(byAgent.map((r) => r.id).sort()).toEqual(runs.filter((r) => r.agent_id === a).map((r) => r.id).sort());
    const byTwo = await everything(world(), t, { agent_ids: [a, b] });
    expect(byTwo).toHaveLength(200);
    const fg = await everything(world(), t, { background: false, agent_id: a });
    expect(fg.every((r) => !r.background && r.agent_id === a)).toBe(true);
    expect(fg).toHaveLength(runs.filter((r) => !r.background && r.agent_id === a).length);
    const paged = await pageForward(world(), t, { agent_id: b }, 9);
    expect(paged).toEqual((await everything(world(), t, { agent_id: b })).map((r) => r.id));
  });
});

forEachBackend("run filters", (world) => {
  it("filters by statuses, active, stop_reason, conversation, project, tags and created range", async () => {
    const t = await world().tenant();
    const ledger = world().ledger;
    const agent = (await t.agent()).id;
    const created = await t.run({ agentId: agent, input: { conversation_id: "conv-1", tags: ["red", "blue"] } });
    const running = await t.run({ agentId: agent, status: "running", input: { project_id: "p1", tags: ["red"] } });
    const done = await t.run({ agentId: agent, status: "completed", input: { conversation_id: "conv-1" } });
    const failed = await t.run({ agentId: agent, status: "failed" });
    const cancelled = await t.run({ agentId: agent, status: "cancelled" });
    // Runs created in the same millisecond tie on created_at, so compare membership, not order.
    const ids = async (q: RunListQuery) => (await ledger.runs.list(t.reader, { ...q, order: "asc" })).map((r) => r.id).sort();
    const sorted = (list: string[]) => [...list].sort();

    expect(await ids({ statuses: ["completed", "failed"] })).toEqual(sorted([done.id, failed.id]));
    expect(await ids({ active: true })).toEqual(sorted([created.id, running.id]));
    expect(await ids({ active: true, statuses: ["running", "completed"] })).toEqual(sorted([running.id]));
    expect(await ids({ active: true, statuses: ["completed"] })).toEqual(sorted([]));
    expect(await ids({ stop_reason: "cancelled" })).toEqual(sorted([cancelled.id]));
    expect(await ids({ conversation_id: "conv-1" })).toEqual(sorted([created.id, done.id]));
    expect(await ids({ project_id: "p1" })).toEqual(sorted([running.id]));
    expect(await ids({ tags: ["red"] })).toEqual(sorted([created.id, running.id]));
    expect(await ids({ tags: ["red", "blue"] })).toEqual(sorted([created.id]));
    for (const [i, run] of [created, running, done, failed, cancelled].entries()) {
      await storeOf(ledger).driver.run("UPDATE runs SET created_at = ? WHERE id = ?", [`2026-03-0${i + 1}T00:00:00.000Z`, run.id]);
    }
    expect(await ids({ created_after: "2026-03-02T00:00:00Z", created_before: "2026-03-05T00:00:00+00:00" })).toEqual(sorted([done.id, failed.id]));
    await expect(ids({ statuses: ["finished" as never] })).rejects.toMatchObject({ code: "VALIDATION_ERROR" });
    await expect(ids({ created_after: "yesterday" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("filters by step count, tools used and duration, and orders by duration", async () => {
    const t = await world().tenant();
    const ledger = world().ledger;
    const agent = (await t.agent()).id;
    const made: { id: string; steps: number; tool: string | null; durationNs: number }[] = [];
    for (const [i, spec] of [
      { steps: 0, tool: null, durationNs: 5_000_000 },
      { steps: 1, tool: "search", durationNs: 1_000_000 },
      { steps: 2, tool: "search", durationNs: 9_000_000 },
      { steps: 3, tool: "browse", durationNs: 3_000_000 },
    ].entries()) {
      const run = await t.run({ agentId: agent, status: "running" });
      for (let s = 0; s < spec.steps; s++) await ledger.steps.record(t.writer, run.id, { prompt_tokens: 1 });
      if (spec.tool) {
        await ledger.messages.append(t.writer, run.id, [
          { message_type: "tool_call_message", tool_call: { name: spec.tool, arguments: "{}", tool_call_id: `c${i}` } },
        ]);
      }
      await ledger.runs.update(t.writer, run.id, { status: "completed", total_duration_ns: spec.durationNs });
      made.push({ id: run.id, ...spec });
    }
    const unfinished = await t.run({ agentId: agent, status: "running" });
    const ordered = async (q: RunListQuery) => (await ledger.runs.list(t.reader, { order: "asc", ...q })).map((r) => r.id);
    // Runs created in the same millisecond tie on created_at, so filters compare membership.
    const ids = async (q: RunListQuery) => (await ordered(q)).sort();
    const sorted = (list: string[]) => [...list].sort();
    const pick = (f: (m: (typeof made)[number]) => boolean) => sorted(made.filter(f).map((m) => m.id));

    expect(await ids({ step_count: 2 })).toEqual(pick((m) => m.steps === 2));
    expect(await ids({ step_count: 2, step_count_operator: "gte" })).toEqual(pick((m) => m.steps >= 2));
    expect(await ids({ step_count: 1, step_count_operator: "lte" })).toEqual(sorted([...pick((m) => m.steps <= 1), unfinished.id]));
    expect(await ids({ tools_used: ["search"] })).toEqual(pick((m) => m.tool === "search"));
    expect(await ids({ tools_used: ["browse", "search"] })).toEqual(pick((m) => m.tool !== null));
    expect(await ids({ duration_value: 3_000_000, duration_operator: "gt" })).toEqual(pick((m) => m.durationNs > 3_000_000));
    expect(await ids({ duration_value: 3_000_000, duration_operator: "lt" })).toEqual(pick((m) => m.durationNs < 3_000_000));
    expect(await ids({ duration_value: 3_000_000, duration_operator: "eq" })).toEqual(pick((m) => m.durationNs === 3_000_000));
    // p50 of {1,3,5,9} ms by nearest rank is 3 ms: runs at or above it.
    expect(await ids({ duration_percentile: 50 })).toEqual(pick((m) => m.durationNs >= 3_000_000));
    expect(await ids({ duration_percentile: 100 })).toEqual(pick((m) => m.durationNs === 9_000_000));

    const byDuration = await ordered({ order_by: "duration", order: "desc" });
    expect(byDuration).toEqual([...[...made].sort((a, b) => b.durationNs - a.durationNs).map((m) => m.id), unfinished.id]);
    const firstTwo = await ledger.runs.list(t.reader, { order_by: "duration", order: "desc", limit: 2 });
    const rest = await ordered({ order_by: "duration", order: "desc", after: firstTwo[1]!.id });
    expect([...firstTwo.map((r) => r.id), ...rest]).toEqual(byDuration);
  });
});
