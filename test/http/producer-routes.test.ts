import { expect, it } from "vitest";
import { forEachServer } from "../support/server.js";

forEachServer("producer routes", (world) => {
  it("walks a run through its whole life over HTTP", async () => {
    const { call } = world();
    const t = await world().tenant();
    const agent = await t.agent();
    const created = await call(t.writeKey, { method: "POST", url: "/v1/runs", payload: { agent_id: agent, tags: ["prod"], metadata: { a: 1 } } });
    expect(created.statusCode).toBe(201);
    const run = created.json();
    expect(created.headers["x-request-id"]).toBeTruthy();
    const running = await call(t.writeKey, { method: "PATCH", url: `/v1/runs/${run.id}`, payload: { status: "running", ttft_ns: 1500 } });
    expect(running.json()).toMatchObject({ status: "running", ttft_ns: 1500 });
    const step = await call(t.writeKey, { method: "POST", url: `/v1/runs/${run.id}/steps`, payload: { model: "m", prompt_tokens: 7 } });
    expect(step.statusCode).toBe(201);
    const finished = await call(t.writeKey, {
      method: "PATCH",
      url: `/v1/runs/${run.id}/steps/${step.json().id}`,
      payload: { status: "success", completion_tokens: 3 },
    });
    expect(finished.json()).toMatchObject({ status: "success", total_tokens: 10 });
    const messages = await call(t.writeKey, {
      method: "POST",
      url: `/v1/runs/${run.id}/messages`,
      payload: { messages: [{ message_type: "assistant_message", content: "hi", step_id: step.json().id }] },
    });
    expect(messages.statusCode).toBe(201);
    expect(messages.json()[0]).toMatchObject({ message_type: "assistant_message", content: "hi", run_id: run.id });
    const beat = await call(t.writeKey, { method: "POST", url: `/v1/runs/${run.id}/heartbeat` });
    expect(beat.statusCode).toBe(200);
    const done = await call(t.writeKey, { method: "PATCH", url: `/v1/runs/${run.id}`, payload: { status: "completed", stop_reason: "end_turn" } });
    expect(done.json()).toMatchObject({ status: "completed", stop_reason: "end_turn" });
    const metrics = await call(t.readKey, { method: "GET", url: `/v1/runs/${run.id}/metrics` });
    expect(metrics.json()).toMatchObject({ num_steps: 1, total_tokens: 10 });

    const illegal = await call(t.writeKey, { method: "PATCH", url: `/v1/runs/${run.id}`, payload: { status: "running" } });
    expect(illegal.statusCode).toBe(409);
    expect(illegal.headers["x-should-retry"]).toBe("false");
    expect(illegal.json()).toMatchObject({ code: "INVALID_TRANSITION", detail: expect.stringMatching(/completed.*running/) });

    const deleted = await call(t.writeKey, { method: "DELETE", url: `/v1/runs/${run.id}` });
    expect(deleted.statusCode).toBe(204);
    expect((await call(t.readKey, { method: "GET", url: `/v1/runs/${run.id}` })).statusCode).toBe(404);
  });

  it("Idempotency-Key replays with 200 and conflicts with 409 on another body", async () => {
    const { call } = world();
    const t = await world().tenant();
    const agent = await t.agent();
    const first = await call(t.writeKey, { method: "POST", url: "/v1/runs", headers: { "idempotency-key": "abc" }, payload: { agent_id: agent } });
    const again = await call(t.writeKey, { method: "POST", url: "/v1/runs", headers: { "idempotency-key": "abc" }, payload: { agent_id: agent } });
    expect([first.statusCode, again.statusCode]).toEqual([201, 200]);
    expect(again.json().id).toBe(first.json().id);
    const other = await call(t.writeKey, {
      method: "POST",
      url: "/v1/runs",
      headers: { "idempotency-key": "abc" },
      payload: { agent_id: agent, background: true },
    });
    expect(other.statusCode).toBe(409);
    expect(other.headers["x-should-retry"]).toBe("false");
  });

  it("cancel is immediate and idempotent; a producer's later complete gets 409", async () => {
    const { call } = world();
    const t = await world().tenant();
    const agent = await t.agent();
    const run = (await call(t.writeKey, { method: "POST", url: "/v1/runs", payload: { agent_id: agent } })).json();
    await call(t.writeKey, { method: "PATCH", url: `/v1/runs/${run.id}`, payload: { status: "running" } });
    const cancel = await call(t.writeKey, { method: "POST", url: `/v1/runs/${run.id}/cancel`, headers: { "content-type": "application/json" }, payload: "" });
    expect(cancel.json()).toMatchObject({ status: "cancelled", stop_reason: "cancelled" });
    expect((await call(t.writeKey, { method: "POST", url: `/v1/runs/${run.id}/cancel`, payload: {} })).json().status).toBe("cancelled");
    const late = await call(t.writeKey, { method: "PATCH", url: `/v1/runs/${run.id}`, payload: { status: "completed" } });
    expect(late.statusCode).toBe(409);
  });

  it("lists accept the trailing-slash form, repeated keys, empty values as absent, and the ascending flag", async () => {
    const { call } = world();
    const t = await world().tenant();
    const agent = await t.agent();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await call(t.writeKey, { method: "POST", url: "/v1/runs", payload: { agent_id: agent } })).json().id);
    await call(t.writeKey, { method: "POST", url: `/v1/runs/${ids[0]}/cancel` });
    const bare = await call(t.readKey, { method: "GET", url: "/v1/runs" });
    const slash = await call(t.readKey, { method: "GET", url: "/v1/runs/" });
    expect(bare.json()).toEqual(slash.json());
    const filtered = await call(t.readKey, { method: "GET", url: "/v1/runs/?statuses=cancelled&statuses=completed&agent_id=&after=" });
    expect(filtered.statusCode).toBe(200);
    expect(filtered.json().map((r: { id: string }) => r.id)).toEqual([ids[0]]);
    const asc = await call(t.readKey, { method: "GET", url: "/v1/runs/?ascending=true&limit=1000" });
    const desc = await call(t.readKey, { method: "GET", url: "/v1/runs/?ascending=false&limit=1000" });
    expect(asc.json().map((r: { id: string }) => r.id)).toEqual([...desc.json()].reverse().map((r: { id: string }) => r.id));
    const active = await call(t.readKey, { method: "GET", url: `/v1/runs/active?agent_id=${agent}` });
    expect(active.json()).toHaveLength(2);
  });

  it("every list takes after and before together: the items strictly between them", async () => {
    const { call } = world();
    const t = await world().tenant();
    const agent = await t.agent();
    const run = (await call(t.writeKey, { method: "POST", url: "/v1/runs", payload: { agent_id: agent } })).json().id as string;
    await call(t.writeKey, { method: "PATCH", url: `/v1/runs/${run}`, payload: { status: "running" } });
    for (let i = 0; i < 5; i++) await call(t.writeKey, { method: "POST", url: `/v1/runs/${run}/steps`, payload: { model: "m" } });
    const messages = (await call(t.writeKey, { method: "POST", url: `/v1/runs/${run}/messages`, payload: { messages: Array.from({ length: 5 }, (_, i) => ({ message_type: "user_message", content: `m${i}` })) } })).json().map((m: { id: string }) => m.id) as string[];
    const ids = async (url: string) => {
      const response = await call(t.readKey, { method: "GET", url });
      expect(response.statusCode, response.body).toBe(200);
      return response.json().map((item: { id: string }) => item.id) as string[];
    };
    // In list order (steps made in one millisecond are ordered by id).
    const steps = await ids(`/v1/runs/${run}/steps?order=asc`);
    expect(steps).toHaveLength(5);
    expect(await ids(`/v1/runs/${run}/messages?after=${messages[0]}&before=${messages[4]}`)).toEqual(messages.slice(1, 4));
    expect(await ids(`/v1/runs/${run}/steps?order=asc&after=${steps[0]}&before=${steps[3]}`)).toEqual(steps.slice(1, 3));
    expect(await ids(`/v1/steps/?order=asc&agent_id=${agent}&after=${steps[1]}&before=${steps[4]}`)).toEqual(steps.slice(2, 4));
    const runs = await ids(`/v1/runs/?agent_id=${agent}`);
    expect(await ids(`/v1/runs/?agent_id=${agent}&after=${runs[0]}&before=${runs[0]}`)).toEqual([]);
  });
});
