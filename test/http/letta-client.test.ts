/**
 * Letta's official TypeScript client, unchanged, against a running runledger server.
 */
import Letta from "@letta-ai/letta-client";
import { beforeAll, expect, it } from "vitest";
import { forEachServer, type HttpTenant } from "../support/server.js";

forEachServer("Letta client", (world) => {
  let tenant: HttpTenant;
  let client: Letta;
  let agentId: string;
  let otherAgentId: string;
  const runIds: string[] = [];
  let stepId: string;

  const post = async (url: string, payload: unknown, method: "POST" | "PATCH" = "POST") => {
    const response = await world().call(tenant.writeKey, { method, url, payload: payload as object });
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json();
  };

  beforeAll(async () => {
    tenant = await world().tenant();
    client = new Letta({ apiKey: tenant.readKey, baseURL: world().baseUrl, maxRetries: 0 });
    agentId = await tenant.agent("weather");
    otherAgentId = await tenant.agent("other");
    for (let i = 0; i < 23; i++) {
      const run = await post("/v1/runs", { agent_id: i % 2 === 0 ? agentId : otherAgentId, background: i % 3 === 0, conversation_id: i < 5 ? "conv-a" : null });
      runIds.push(run.id);
    }
    const busy = runIds[0]!;
    await post(`/v1/runs/${busy}`, { status: "running" }, "PATCH");
    for (let s = 0; s < 3; s++) {
      const step = await post(`/v1/runs/${busy}/steps`, { model: "gpt-4o", prompt_tokens: 100, completion_tokens: 10, status: "success" });
      stepId = step.id;
    }
    await post(`/v1/runs/${busy}/messages`, {
      messages: [
        { message_type: "user_message", content: "weather in Oslo?" },
        { message_type: "tool_call_message", tool_call: { name: "get_weather", arguments: "{}", tool_call_id: "c1" } },
        { message_type: "tool_return_message", tool_return: "3C", tool_call_id: "c1", status: "success" },
        { message_type: "assistant_message", content: "3°C" },
      ],
    });
    await post(`/v1/runs/${busy}`, { status: "completed", stop_reason: "end_turn" }, "PATCH");
    await post(`/v1/runs/${runIds[1]!}`, { status: "failed", stop_reason: "llm_api_error" }, "PATCH");
  });

  it("runs.list auto-paginates over several pages, seeing every run exactly once, and ends", async () => {
    const seen: string[] = [];
    for await (const run of client.runs.list({ limit: 5 })) seen.push(run.id);
    expect(seen).toHaveLength(runIds.length);
    expect(new Set(seen)).toEqual(new Set(runIds));
    const ascending: string[] = [];
    for await (const run of client.runs.list({ limit: 4, order: "asc" })) ascending.push(run.id);
    expect(ascending).toEqual([...seen].reverse());
  });

  it("runs.list filters by agent, statuses, active, background, stop reason and conversation", async () => {
    const ids = async (query: Parameters<Letta["runs"]["list"]>[0]) => {
      const out: string[] = [];
      for await (const run of client.runs.list(query)) out.push(run.id);
      return out.sort();
    };
    expect(await ids({ agent_id: agentId })).toEqual(runIds.filter((_, i) => i % 2 === 0).sort());
    expect(await ids({ statuses: ["completed", "failed"] })).toEqual([runIds[0]!, runIds[1]!].sort());
    expect(await ids({ active: true })).toHaveLength(runIds.length - 2);
    expect(await ids({ background: true })).toEqual(runIds.filter((_, i) => i % 3 === 0).sort());
    expect(await ids({ stop_reason: "llm_api_error" })).toEqual([runIds[1]!]);
    expect(await ids({ conversation_id: "conv-a" })).toEqual(runIds.slice(0, 5).sort());
    expect(await ids({ agent_ids: [agentId, otherAgentId], limit: 7 })).toHaveLength(runIds.length);
    expect(await ids({ ascending: true, statuses: ["completed"] })).toEqual([runIds[0]!]);
  });

  it("runs.retrieve, messages, steps and usage return Letta's shapes", async () => {
    const run = await client.runs.retrieve(runIds[0]!);
    expect(run).toMatchObject({ id: runIds[0], agent_id: agentId, status: "completed", stop_reason: "end_turn" });
    expect(typeof run.total_duration_ns).toBe("number");

    const messages: { message_type?: string; id: string }[] = [];
    for await (const message of client.runs.messages.list(runIds[0]!, { limit: 2 })) messages.push(message);
    expect(messages.map((m) => m.message_type)).toEqual(["user_message", "tool_call_message", "tool_return_message", "assistant_message"]);

    const steps: { id: string; total_tokens?: number | null }[] = [];
    for await (const step of client.runs.steps.list(runIds[0]!, { limit: 2 })) steps.push(step);
    expect(steps).toHaveLength(3);
    expect(steps.every((s) => s.total_tokens === 110)).toBe(true);

    const usage = await client.runs.usage.retrieve(runIds[0]!);
    expect(usage).toMatchObject({ prompt_tokens: 300, completion_tokens: 30, total_tokens: 330 });
  });

  it("steps.retrieve, steps.metrics and steps.feedback", async () => {
    const step = await client.steps.retrieve(stepId);
    expect(step).toMatchObject({ id: stepId, run_id: runIds[0], model: "gpt-4o", status: "success" });
    expect(await client.steps.metrics.retrieve(stepId)).toMatchObject({ id: stepId, run_id: runIds[0] });
    const writer = new Letta({ apiKey: tenant.writeKey, baseURL: world().baseUrl, maxRetries: 0 });
    expect(await writer.steps.feedback.create(stepId, { feedback: "positive" })).toMatchObject({ feedback: "positive" });
  });

  it("agents.messages.cancel cancels the agent's active runs", async () => {
    const writer = new Letta({ apiKey: tenant.writeKey, baseURL: world().baseUrl, maxRetries: 0 });
    const active: string[] = [];
    for await (const run of client.runs.list({ agent_id: otherAgentId, active: true })) active.push(run.id);
    const result = await writer.agents.messages.cancel(otherAgentId);
    expect(Object.keys(result as object).sort()).toEqual(active.sort());
    expect(Object.values(result as object).every((v) => v === "cancelled")).toBe(true);
    expect((await client.runs.retrieve(active[0]!)).status).toBe("cancelled");
  });

  it("surfaces runledger's errors as the client's typed errors", async () => {
    await expect(client.runs.retrieve("run-00000000-0000-4000-8000-000000000000")).rejects.toBeInstanceOf(Letta.NotFoundError);
    await expect(client.runs.retrieve("not-a-run")).rejects.toBeInstanceOf(Letta.BadRequestError);
    const anonymous = new Letta({ apiKey: "rlk_000000000000_wrongwrongwrongwrongwrong", baseURL: world().baseUrl, maxRetries: 0 });
    await expect(anonymous.runs.retrieve(runIds[0]!)).rejects.toBeInstanceOf(Letta.AuthenticationError);
  });
});
