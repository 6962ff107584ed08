import { expect, it } from "vitest";
import { RunCancelledError, track } from "../../src/client/track.js";
import { forEachBackend } from "../support/fixtures.js";
import { aborted, waitFor } from "../support/wait.js";

forEachBackend("track() in process", (world) => {
  it("runs the agent code in a run: running, steps, messages, time to first token, completed with the duration", async () => {
    const t = await world().tenant();
    const agent = await t.agent();
    const ledger = world().ledger;
    let runId = "";
    const result = await track({ ledger, actor: t.writer }, { agent_id: agent.id, tags: ["tracked"] }, async (run) => {
      runId = run.id;
      expect((await ledger.runs.get(t.reader, run.id)).status).toBe("running");
      await run.chunks([{ message_type: "assistant_message", content: "He" }]);
      await run.step({ model: "m", prompt_tokens: 10, completion_tokens: 4, status: "success" });
      await run.messages([{ message_type: "assistant_message", content: "Hello" }]);
      await run.metadata({ answer: 42 });
      return "done";
    });
    expect(result).toBe("done");
    const run = await ledger.runs.get(t.reader, runId);
    expect(run).toMatchObject({ status: "completed", stop_reason: "end_turn", tags: ["tracked"], metadata: { answer: 42 } });
    expect(run.ttft_ns).toBeGreaterThan(0);
    expect(run.total_duration_ns).toBeGreaterThanOrEqual(run.ttft_ns!);
    expect((await ledger.runs.usage(t.reader, runId)).total_tokens).toBe(14);
  });

  it("maps a thrown error to failed with its details and rethrows it", async () => {
    const t = await world().tenant();
    const agent = await t.agent();
    let runId = "";
    const failure = await track({ ledger: world().ledger, actor: t.writer }, { agent_id: agent.id }, async (run) => {
      runId = run.id;
      throw new TypeError("the model returned nonsense");
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TypeError);
    const run = await world().ledger.runs.get(t.reader, runId);
    expect(run).toMatchObject({ status: "failed", stop_reason: "error", error: { type: "TypeError", message: "the model returned nonsense" } });
    expect((run.error!.details as { stack: string }).stack).toContain("TypeError");
  });

  it("aborts the agent's signal when the run is cancelled elsewhere, and reports the cancel", async () => {
    const t = await world().tenant();
    const agent = await t.agent();
    const ledger = world().ledger;
    const outcome = track({ ledger, actor: t.writer }, { agent_id: agent.id }, async (run) => {
      await ledger.runs.cancel(t.admin, run.id); // an operator elsewhere
      await aborted(run.signal);
      expect(run.signal.reason).toBeInstanceOf(RunCancelledError);
      return "ignored the cancel";
    });
    await expect(outcome).rejects.toBeInstanceOf(RunCancelledError);
  });

  it("an agent-wide cancel reaches the producer too", async () => {
    const t = await world().tenant();
    const agent = await t.agent();
    const ledger = world().ledger;
    const outcome = track({ ledger, actor: t.writer }, { agent_id: agent.id }, async (run) => {
      expect(await ledger.runs.cancelAgentRuns(t.admin, agent.id)).toEqual({ [run.id]: "cancelled" });
      await aborted(run.signal);
    });
    await expect(outcome).rejects.toBeInstanceOf(RunCancelledError);
  });

  it("heartbeats while the agent works", async () => {
    const t = await world().tenant();
    const agent = await t.agent();
    const ledger = world().ledger;
    await track({ ledger, actor: t.writer }, { agent_id: agent.id, heartbeatIntervalMs: 20 }, async (run) => {
      const first = (await ledger.runs.get(t.reader, run.id)).last_heartbeat_at!;
      await waitFor("a newer heartbeat", async () => (await ledger.runs.get(t.reader, run.id)).last_heartbeat_at! > first);
    });
  });
});
