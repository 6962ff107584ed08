import { expect, it } from "vitest";
import { RunledgerClient } from "../../src/client/http-client.js";
import { RunCancelledError, track } from "../../src/client/track.js";
import { forEachServer } from "../support/server.js";
import { aborted } from "../support/wait.js";

forEachServer("track() over HTTP", (world) => {
  it("records a whole run through the HTTP client", async () => {
    const t = await world().tenant();
    const agent = await t.agent();
    const client = new RunledgerClient({ baseUrl: world().baseUrl, apiKey: t.writeKey });
    let runId = "";
    await track(client, { agent_id: agent }, async (run) => {
      runId = run.id;
      const step = await run.step({ model: "m", prompt_tokens: 3 });
      await run.finishStep(step.id, { status: "success", completion_tokens: 2 });
      await run.messages([{ message_type: "assistant_message", content: "ok" }]);
    });
    const stored = (await world().call(t.readKey, { method: "GET", url: `/v1/runs/${runId}` })).json();
    expect(stored).toMatchObject({ status: "completed", stop_reason: "end_turn" });
    expect((await world().call(t.readKey, { method: "GET", url: `/v1/runs/${runId}/usage` })).json()).toMatchObject({ total_tokens: 5 });
  });

  it("a cancel through the API aborts the producer's signal", async () => {
    const t = await world().tenant();
    const agent = await t.agent();
    const client = new RunledgerClient({ baseUrl: world().baseUrl, apiKey: t.writeKey });
    const outcome = track(client, { agent_id: agent }, async (run) => {
      await world().call(t.adminKey, { method: "POST", url: `/v1/runs/${run.id}/cancel` });
      await aborted(run.signal);
    });
    await expect(outcome).rejects.toBeInstanceOf(RunCancelledError);
  });

  it("turns runledger's error bodies into the same error classes as the services", async () => {
    const t = await world().tenant();
    const client = new RunledgerClient({ baseUrl: world().baseUrl, apiKey: t.writeKey });
    await expect(client.getRun("run-00000000-0000-4000-8000-000000000000")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(client.createRun({ agent_id: "agent-x" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});
