import { expect, it } from "vitest";
import { InvalidArgumentError, InvalidTransitionError } from "../../src/core/errors.js";
import { RUN_STATUSES, type RunStatus, canTransition } from "../../src/core/run-lifecycle.js";
import { forEachBackend, type Tenant } from "../support/fixtures.js";
import { storeOf } from "../../src/store/store.js";

const TERMINAL_UPDATE: Record<string, { status: RunStatus; stop_reason: string }> = {
  completed: { status: "completed", stop_reason: "end_turn" },
  failed: { status: "failed", stop_reason: "llm_api_error" },
  cancelled: { status: "cancelled", stop_reason: "cancelled" },
};

forEachBackend("run lifecycle", (world) => {
  async function runIn(t: Tenant, status: RunStatus) {
    return t.run({ status });
  }

  it("creates a run in created with its metrics row and a heartbeat", async () => {
    const t = await world().tenant();
    const agent = await t.agent();
    const run = await world().ledger.runs.create(t.writer, { agent_id: agent.id, metadata: { a: 1 }, tags: ["x", "y"], background: true });
    expect(run).toMatchObject({ status: "created", stop_reason: null, agent_id: agent.id, background: true, metadata: { a: 1 }, tags: ["x", "y"] });
    expect(run.id).toMatch(/^run-[0-9a-f-]{36}$/);
    expect(run.created_at).toMatch(/Z$/);
    const metrics = await world().ledger.runs.metrics(t.reader, run.id);
    expect(metrics).toMatchObject({ id: run.id, agent_id: agent.id, num_steps: 0, tools_used: [], run_ns: null });
    expect(metrics.run_start_ns).toBeGreaterThan(0);
    expect(await world().ledger.runs.get(t.reader, run.id)).toEqual(run);
  });

  it("rejects a run for an agent the organization does not have", async () => {
    const t = await world().tenant();
    const other = await world().tenant();
    const foreign = await other.agent();
    await expect(world().ledger.runs.create(t.writer, { agent_id: foreign.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await world().ledger.runs.list(t.reader)).toEqual([]);
  });

  it("entering running sets started_at", async () => {
    const t = await world().tenant();
    const run = await runIn(t, "created");
    const running = await world().ledger.runs.update(t.writer, run.id, { status: "running" });
    expect(running.status).toBe("running");
    expect(running.started_at).not.toBeNull();
    expect(running.completed_at).toBeNull();
  });

  for (const [from, targets] of [
    ["created", ["failed", "cancelled"]],
    ["running", ["completed", "failed", "cancelled"]],
  ] as const) {
    for (const to of targets) {
      it(`${from} → ${to} sets completed_at, durations, the agent's last run and a status event`, async () => {
        const t = await world().tenant();
        const run = await runIn(t, from);
        const done = await world().ledger.runs.update(t.writer, run.id, TERMINAL_UPDATE[to]! as never);
        expect(done.status).toBe(to);
        expect(done.stop_reason).toBe(TERMINAL_UPDATE[to]!.stop_reason);
        expect(done.completed_at).not.toBeNull();
        expect(done.total_duration_ns).toBe((Date.parse(done.completed_at!) - Date.parse(done.created_at)) * 1e6);
        const metrics = await world().ledger.runs.metrics(t.reader, run.id);
        expect(metrics.run_ns).toBe(done.total_duration_ns);
        const agent = await world().ledger.agents.get(t.reader, run.agent_id);
        expect(agent.last_stop_reason).toBe(done.stop_reason);
        expect(agent.last_run_completion).toBe(done.completed_at);
        expect(agent.last_run_duration_ms).toBe(Math.round(done.total_duration_ns! / 1e6));
        const events = await storeOf(world().ledger).read.events.list(t.orgId, run.id, 0, 100);
        const statuses = events.filter((e) => e.kind === "status").map((e) => e.event.status);
        expect(statuses.at(-1)).toBe(to);
        expect(events.map((e) => e.seq_id)).toEqual(events.map((_, i) => i + 1));
      });
    }
  }

  const everyPair = RUN_STATUSES.flatMap((from) => RUN_STATUSES.map((to) => [from, to] as const));
  for (const [from, to] of everyPair.filter(([f, t]) => !canTransition(f, t) && f !== t)) {
    it(`rejects ${from} → ${to} with a message naming both states, changing nothing`, async () => {
      const t = await world().tenant();
      const run = await runIn(t, from);
      const update = to in TERMINAL_UPDATE ? TERMINAL_UPDATE[to]! : { status: to };
      const error = await world().ledger.runs.update(t.writer, run.id, update as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidTransitionError);
      expect((error as Error).message).toContain(from);
      expect((error as Error).message).toContain(to);
      expect(await world().ledger.runs.get(t.reader, run.id)).toEqual(run);
    });
  }

  it("repeating the exact terminal transition is an idempotent success with no second event", async () => {
    const t = await world().tenant();
    const run = await runIn(t, "running");
    const first = await world().ledger.runs.update(t.writer, run.id, { status: "completed", stop_reason: "end_turn" });
    const again = await world().ledger.runs.update(t.writer, run.id, { status: "completed", stop_reason: "end_turn" });
    expect(again).toEqual(first);
    const events = await storeOf(world().ledger).read.events.list(t.orgId, run.id, 0, 100);
    expect(events.filter((e) => e.event.status === "completed")).toHaveLength(1);
    await expect(world().ledger.runs.update(t.writer, run.id, { status: "completed", stop_reason: "max_steps" })).rejects.toBeInstanceOf(
      InvalidTransitionError,
    );
  });

  it("requires a stop reason consistent with the status and fills the default when absent", async () => {
    const t = await world().tenant();
    const run = await runIn(t, "running");
    await expect(world().ledger.runs.update(t.writer, run.id, { status: "completed", stop_reason: "llm_api_error" })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(world().ledger.runs.update(t.writer, run.id, { status: "running", stop_reason: "end_turn" })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(world().ledger.runs.update(t.writer, run.id, { stop_reason: "no_such_reason" as never })).rejects.toMatchObject({
      code: "VALIDATION_ERROR",
      message: expect.stringMatching(/^invalid request: stop_reason must be one of end_turn, /),
    });
    expect((await world().ledger.runs.get(t.reader, run.id)).status).toBe("running");
    const byReason = await world().ledger.runs.update(t.writer, run.id, { stop_reason: "max_tokens_exceeded" });
    expect(byReason).toMatchObject({ status: "failed", stop_reason: "max_tokens_exceeded" });
    const other = await runIn(t, "running");
    expect(await world().ledger.runs.update(t.writer, other.id, { status: "completed" })).toMatchObject({ stop_reason: "end_turn" });
  });

  it("keeps the producer's completed_at, total_duration_ns, ttft_ns and error", async () => {
    const t = await world().tenant();
    const run = await runIn(t, "running");
    const done = await world().ledger.runs.update(t.writer, run.id, {
      status: "failed",
      stop_reason: "llm_api_error",
      completed_at: "2030-01-01T00:00:00.000Z",
      total_duration_ns: 1234,
      ttft_ns: 77,
      error: { type: "RateLimit", message: "429 from provider", details: { retry_after: 3 } },
    });
    expect(done).toMatchObject({
      completed_at: "2030-01-01T00:00:00.000Z",
      total_duration_ns: 1234,
      ttft_ns: 77,
      error: { type: "RateLimit", message: "429 from provider", details: { retry_after: 3 } },
    });
    expect((await world().ledger.runs.metrics(t.reader, run.id)).run_ns).toBe(1234);
  });

  it("merges metadata shallowly, also after the run ended, but freezes timings", async () => {
    const t = await world().tenant();
    const run = await t.run({ status: "running", input: { metadata: { a: 1, nested: { x: 1 } } } });
    const merged = await world().ledger.runs.update(t.writer, run.id, { metadata: { b: 2, nested: { y: 2 } } });
    expect(merged.metadata).toEqual({ a: 1, b: 2, nested: { y: 2 } });
    await world().ledger.runs.update(t.writer, run.id, { status: "completed" });
    const annotated = await world().ledger.runs.update(t.writer, run.id, { metadata: { reviewed: true } });
    expect(annotated.metadata).toEqual({ a: 1, b: 2, nested: { y: 2 }, reviewed: true });
    await expect(world().ledger.runs.update(t.writer, run.id, { ttft_ns: 5 })).rejects.toBeInstanceOf(InvalidTransitionError);
  });

  it("cancel moves an active run to cancelled at once and is idempotent; a later complete gets 409", async () => {
    const t = await world().tenant();
    for (const from of ["created", "running"] as const) {
      const run = await runIn(t, from);
      const cancelled = await world().ledger.runs.cancel(t.writer, run.id);
      expect(cancelled).toMatchObject({ status: "cancelled", stop_reason: "cancelled" });
      expect(cancelled.cancel_requested_at).not.toBeNull();
      expect(await world().ledger.runs.cancel(t.writer, run.id)).toEqual(cancelled);
      const late = await world().ledger.runs.update(t.writer, run.id, { status: "completed", stop_reason: "end_turn" }).catch((e: unknown) => e);
      expect(late).toBeInstanceOf(InvalidTransitionError);
      expect((late as Error).message).toMatch(/cancelled.*completed/);
    }
    const finished = await runIn(t, "completed");
    expect(await world().ledger.runs.cancel(t.writer, finished.id)).toEqual(finished);
  });

  it("cancels a failed or cancelled run's pending steps with it", async () => {
    const t = await world().tenant();
    const run = await runIn(t, "running");
    const step = await world().ledger.steps.record(t.writer, run.id, { model: "m" });
    await world().ledger.runs.cancel(t.writer, run.id);
    expect((await world().ledger.steps.get(t.reader, step.id)).status).toBe("cancelled");
  });

  it("cancels an agent's active runs and reports each outcome", async () => {
    const t = await world().tenant();
    const agent = await t.agent();
    const a = await t.run({ agentId: agent.id, status: "running" });
    const b = await t.run({ agentId: agent.id });
    const done = await t.run({ agentId: agent.id, status: "completed" });
    const outcome = await world().ledger.runs.cancelAgentRuns(t.writer, agent.id);
    expect(outcome).toEqual({ [a.id]: "cancelled", [b.id]: "cancelled" });
    await expect(world().ledger.runs.cancelAgentRuns(t.writer, agent.id)).rejects.toMatchObject({ code: "CONFLICT" });
    const c = await t.run({ agentId: agent.id });
    expect(await world().ledger.runs.cancelAgentRuns(t.writer, agent.id, [c.id, done.id])).toEqual({ [c.id]: "cancelled", [done.id]: "failed" });
  });

  it("a heartbeat refreshes last_heartbeat_at of an active run only", async () => {
    const t = await world().tenant();
    const run = await runIn(t, "running");
    const beat = await world().ledger.runs.heartbeat(t.writer, run.id);
    expect(Date.parse(beat.last_heartbeat_at!)).toBeGreaterThanOrEqual(Date.parse(run.last_heartbeat_at!));
    const cancelled = await world().ledger.runs.cancel(t.writer, run.id);
    expect(await world().ledger.runs.heartbeat(t.writer, run.id)).toEqual(cancelled);
  });

  it("of 20 concurrent terminal transitions on one run exactly one wins", async () => {
    const t = await world().tenant();
    const run = await runIn(t, "running");
    const attempts = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0
        ? world().ledger.runs.update(t.writer, run.id, { status: "completed", stop_reason: "end_turn" })
        : world().ledger.runs.update(t.writer, run.id, { status: "failed", stop_reason: "error" }),
    );
    const results = await Promise.allSettled(attempts);
    const final = await world().ledger.runs.get(t.reader, run.id);
    expect(["completed", "failed"]).toContain(final.status);
    for (const [i, result] of results.entries()) {
      const asked = i % 2 === 0 ? "completed" : "failed";
      if (asked === final.status) {
        expect(result.status).toBe("fulfilled");
      } else {
        expect(result.status).toBe("rejected");
        expect((result as PromiseRejectedResult).reason).toBeInstanceOf(InvalidTransitionError);
      }
    }
    const events = await storeOf(world().ledger).read.events.list(t.orgId, run.id, 0, 100);
    expect(events.filter((e) => e.kind === "status" && (e.event.status === "completed" || e.event.status === "failed"))).toHaveLength(1);
  });

  it("a read key cannot change a run", async () => {
    const t = await world().tenant();
    const run = await runIn(t, "running");
    await expect(world().ledger.runs.update(t.reader, run.id, { status: "completed" })).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    await expect(world().ledger.runs.cancel(t.reader, run.id)).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    expect((await world().ledger.runs.get(t.reader, run.id)).status).toBe("running");
  });
});
