import { describe, expect, it } from "vitest";
import type { Actor } from "../../src/core/model.js";
import type { Ledger } from "../../src/ledger.js";
import { BACKENDS } from "../support/backends.js";
import { forEachBackend } from "../support/fixtures.js";
import { storeOf } from "../../src/store/store.js";

interface Spec {
  agent: 0 | 1;
  end: "completed" | "failed" | "cancelled" | "running";
  durationMs: number;
  ttftMs: number | null;
  steps: { model: string; prompt: number; completion: number }[];
  tool: string | null;
  createdAt: string;
}

/** A fixed data set: 40 runs over two agents, two models, three tools and three hours. */
function dataset(): Spec[] {
  const ends = ["completed", "failed", "completed", "cancelled", "completed", "running"] as const;
  return Array.from({ length: 40 }, (_, i) => ({
    agent: (i % 2) as 0 | 1,
    end: ends[i % ends.length]!,
    durationMs: ((i * 37) % 23) * 100 + 50,
    ttftMs: i % 4 === 0 ? null : ((i * 13) % 11) * 10 + 5,
    steps: Array.from({ length: i % 3 }, (_, s) => ({ model: s === 0 ? "gpt-a" : "gpt-b", prompt: 10 + i, completion: 2 * s + 1 })),
    tool: [null, "search", "browse", "search"][i % 4]!,
    createdAt: new Date(Date.UTC(2026, 0, 1, 9 + (i % 3), (i * 7) % 60, 0)).toISOString(),
  }));
}

async function seed(ledger: Ledger, actor: Actor, specs: Spec[]): Promise<string[]> {
  const agents = [(await ledger.agents.create(actor, { name: "a0" })).id, (await ledger.agents.create(actor, { name: "a1" })).id];
  for (const spec of specs) {
    const run = await ledger.runs.create(actor, { agent_id: agents[spec.agent]! });
    await ledger.runs.update(actor, run.id, { status: "running", ...(spec.ttftMs === null ? {} : { ttft_ns: spec.ttftMs * 1e6 }) });
    for (const step of spec.steps) {
      await ledger.steps.record(actor, run.id, { model: step.model, prompt_tokens: step.prompt, completion_tokens: step.completion, status: "success" });
    }
    if (spec.tool) await ledger.messages.append(actor, run.id, [{ message_type: "tool_call_message", tool_call: { name: spec.tool, arguments: "{}", tool_call_id: "c" } }]);
    if (spec.end === "completed") await ledger.runs.update(actor, run.id, { status: "completed", total_duration_ns: spec.durationMs * 1e6 });
    if (spec.end === "failed") await ledger.runs.update(actor, run.id, { status: "failed", stop_reason: "llm_api_error", total_duration_ns: spec.durationMs * 1e6 });
    if (spec.end === "cancelled") {
      await ledger.runs.cancel(actor, run.id);
      await storeOf(ledger).driver.run("UPDATE runs SET total_duration_ns = ? WHERE id = ?", [spec.durationMs * 1e6, run.id]);
    }
    await storeOf(ledger).driver.run("UPDATE runs SET created_at = ? WHERE id = ?", [spec.createdAt, run.id]);
  }
  return agents;
}

function nearestRank(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
}

forEachBackend("run statistics", (world) => {
  it("computes counts, error rate, percentiles, tokens, steps and top tools exactly", async () => {
    const t = await world().tenant();
    const specs = dataset();
    await seed(world().ledger, t.writer, specs);
    const report = await world().ledger.stats.stats(t.reader);
    const ended = specs.filter((s) => s.end !== "running");
    const durations = ended.map((s) => s.durationMs * 1e6);
    const ttfts = specs.filter((s) => s.ttftMs !== null).map((s) => s.ttftMs! * 1e6);
    const prompt = specs.flatMap((s) => s.steps).reduce((sum, s) => sum + s.prompt, 0);
    const completion = specs.flatMap((s) => s.steps).reduce((sum, s) => sum + s.completion, 0);
    const count = (end: Spec["end"]) => specs.filter((s) => s.end === end).length;
    expect(report.summary).toMatchObject({
      runs: 40,
      by_status: { created: 0, running: count("running"), completed: count("completed"), failed: count("failed"), cancelled: count("cancelled") },
      error_rate: Math.round((count("failed") / ended.length) * 10_000) / 10_000,
      duration_ns: { p50: nearestRank(durations, 50), p95: nearestRank(durations, 95), p99: nearestRank(durations, 99), max: Math.max(...durations) },
      ttft_ns: { p50: nearestRank(ttfts, 50), p95: nearestRank(ttfts, 95), p99: nearestRank(ttfts, 99) },
      tokens: { prompt, completion, total: prompt + completion },
      steps: { total: specs.reduce((sum, s) => sum + s.steps.length, 0), max: 2 },
    });
    expect(report.top_tools).toEqual([
      { tool: "search", runs: specs.filter((s) => s.tool === "search").length },
      { tool: "browse", runs: specs.filter((s) => s.tool === "browse").length },
    ]);

    const byStatus = await world().ledger.stats.stats(t.reader, { group_by: "status" });
    expect(Object.fromEntries(byStatus.groups.map((g) => [g.group, g.runs]))).toEqual({
      cancelled: count("cancelled"),
      completed: count("completed"),
      failed: count("failed"),
      running: count("running"),
    });
    const byModel = await world().ledger.stats.stats(t.reader, { group_by: "model" });
    expect(Object.fromEntries(byModel.groups.map((g) => [g.group, g.runs]))).toEqual({
      "gpt-a": specs.filter((s) => s.steps.length >= 1).length,
      "gpt-b": specs.filter((s) => s.steps.length >= 2).length,
    });
    const hourly = await world().ledger.stats.stats(t.reader, { bucket: "hour" });
    expect(hourly.groups.map((g) => [g.bucket, g.runs])).toEqual([
      ["2026-01-01T09:00:00.000Z", specs.filter((s) => s.createdAt.startsWith("2026-01-01T09")).length],
      ["2026-01-01T10:00:00.000Z", specs.filter((s) => s.createdAt.startsWith("2026-01-01T10")).length],
      ["2026-01-01T11:00:00.000Z", specs.filter((s) => s.createdAt.startsWith("2026-01-01T11")).length],
    ]);
    // Grouping splits the runs; it never changes the summary of all of them.
    for (const grouped of [byStatus, byModel, hourly]) expect(grouped.summary).toEqual(report.summary);
    const filtered = await world().ledger.stats.stats(t.reader, { statuses: ["failed"] });
    expect(filtered.summary.runs).toBe(count("failed"));
    expect(filtered.summary.error_rate).toBe(1);
    const failedDurations = specs.filter((s) => s.end === "failed").map((s) => s.durationMs * 1e6);
    expect(filtered.summary.duration_ns).toMatchObject({ p50: nearestRank(failedDurations, 50), p95: nearestRank(failedDurations, 95), p99: nearestRank(failedDurations, 99) });
  });

  it("leave out soft-deleted runs and keep to the filter, in every figure and in the top tools", async () => {
    const t = await world().tenant();
    const specs = dataset();
    const agents = await seed(world().ledger, t.writer, specs);
    // Only the first agent's runs use "browse"; soft-delete them all.
    const browsed = await world().ledger.runs.list(t.reader, { agent_id: agents[0], tools_used: ["browse"], limit: 100 });
    const isBrowse = (s: Spec) => s.tool === "browse";
    expect(browsed).toHaveLength(specs.filter(isBrowse).length);
    for (const run of browsed) await world().ledger.runs.softDelete(t.writer, run.id);
    const kept = specs.filter((s) => !isBrowse(s));
    const searches = (agent: 0 | 1) => kept.filter((s) => s.agent === agent && s.tool === "search").length;

    const all = await world().ledger.stats.stats(t.reader);
    expect(all.summary.runs).toBe(kept.length);
    expect(all.top_tools).toEqual([{ tool: "search", runs: searches(0) + searches(1) }]);
    const keptSteps = kept.flatMap((s) => s.steps);
    expect(all.summary.tokens.prompt).toBe(keptSteps.reduce((sum, s) => sum + s.prompt, 0));
    expect(all.summary.steps.total).toBe(keptSteps.length);
    const durations = kept.filter((s) => s.end !== "running").map((s) => s.durationMs * 1e6);
    expect(all.summary.duration_ns).toMatchObject({ p50: nearestRank(durations, 50), p95: nearestRank(durations, 95), p99: nearestRank(durations, 99) });

    const first = await world().ledger.stats.stats(t.reader, { agent_id: agents[0] });
    expect(first.summary.runs).toBe(kept.filter((s) => s.agent === 0).length);
    expect(first.top_tools).toEqual(searches(0) === 0 ? [] : [{ tool: "search", runs: searches(0) }]);
    const second = await world().ledger.stats.stats(t.reader, { agent_id: agents[1], tools_used: ["search"] });
    expect(second.summary.runs).toBe(searches(1));
    expect(second.top_tools).toEqual([{ tool: "search", runs: searches(1) }]);
  });

  it("an organization without runs gets zeros, and bad parameters are refused", async () => {
    const t = await world().tenant();
    const report = await world().ledger.stats.stats(t.reader, { group_by: "agent_id" });
    expect(report).toMatchObject({ summary: { runs: 0, error_rate: 0, duration_ns: { p50: null } }, groups: [], top_tools: [] });
    await expect(world().ledger.stats.stats(t.reader, { group_by: "colour" as never })).rejects.toMatchObject({ code: "VALIDATION_ERROR" });
    await expect(world().ledger.stats.stats(t.reader, { bucket: "week" as never })).rejects.toMatchObject({ code: "VALIDATION_ERROR" });
  });
});

describe.skipIf(!BACKENDS[1]!.available)("run statistics on both backends", () => {
  it("are identical for the same data", async () => {
    const reports = [];
    for (const backend of BACKENDS) {
      const opened = await backend.open();
      try {
        const org = await opened.ledger.organizations.createTrusted("same data");
        const actor = { organization_id: org.id, role: "write" as const };
        const agents = await seed(opened.ledger, actor, dataset());
        const rename = (value: string | null | undefined) => (value === agents[0] ? "a0" : value === agents[1] ? "a1" : value);
        const all = [];
        for (const query of [{}, { group_by: "agent_id" as const, bucket: "hour" as const }, { group_by: "model" as const }, { group_by: "stop_reason" as const }]) {
          const report = await opened.ledger.stats.stats(actor, query);
          // Agent ids differ between the databases: compare groups by agent name, in a fixed order.
          const groups = report.groups.map((g) => ({ ...g, group: rename(g.group) }));
          groups.sort((x, y) => `${x.bucket}|${x.group}`.localeCompare(`${y.bucket}|${y.group}`));
          all.push({ ...report, groups });
        }
        reports.push(all);
      } finally {
        await opened.dispose();
      }
    }
    expect(reports[1]).toEqual(reports[0]);
  });
});
