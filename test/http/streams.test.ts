import Letta from "@letta-ai/letta-client";
import { expect, it } from "vitest";
import { forEachServer, type HttpTenant, type HttpWorld } from "../support/server.js";
import { collect, readSse, type SseEvent } from "../support/sse.js";
import { storeOf } from "../../src/store/store.js";
import { waitFor } from "../support/wait.js";

async function liveRun(world: HttpWorld, t: HttpTenant): Promise<string> {
  const agent = await t.agent();
  const run = (await world.call(t.writeKey, { method: "POST", url: "/v1/runs", payload: { agent_id: agent } })).json();
  await world.call(t.writeKey, { method: "PATCH", url: `/v1/runs/${run.id}`, payload: { status: "running" } });
  return run.id as string;
}

async function post(world: HttpWorld, key: string, url: string, payload: object, method: "POST" | "PATCH" = "POST") {
  const response = await world.call(key, { method, url, payload });
  expect(response.statusCode, response.body).toBeLessThan(300);
  return response.json();
}

forEachServer("run streams", (world) => {
  it("Letta's client streams a run live: messages and chunks in order, then stop_reason, usage and the end", async () => {
    const t = await world().tenant();
    const runId = await liveRun(world(), t);
    await post(world(), t.writeKey, `/v1/runs/${runId}/messages`, { messages: [{ message_type: "user_message", content: "hi" }] });
    const client = new Letta({ apiKey: t.readKey, baseURL: world().baseUrl, maxRetries: 0 });
    const stream = await client.runs.messages.stream(runId, {});
    const received: Record<string, unknown>[] = [];
    const consumed = (async () => {
      for await (const chunk of stream) received.push(chunk as Record<string, unknown>);
    })();
    await post(world(), t.writeKey, `/v1/runs/${runId}/events`, {
      chunks: [
        { message_type: "assistant_message", content: "Hel" },
        { message_type: "assistant_message", content: "lo" },
      ],
    });
    await post(world(), t.writeKey, `/v1/runs/${runId}/steps`, { prompt_tokens: 5, completion_tokens: 2, status: "success" });
    await post(world(), t.writeKey, `/v1/runs/${runId}/messages`, { messages: [{ message_type: "assistant_message", content: "Hello" }] });
    await post(world(), t.writeKey, `/v1/runs/${runId}`, { status: "completed", stop_reason: "end_turn" }, "PATCH");
    await consumed;
    expect(received.map((m) => m.message_type)).toEqual([
      "user_message",
      "assistant_message",
      "assistant_message",
      "assistant_message",
      "stop_reason",
      "usage_statistics",
    ]);
    const seqs = received.slice(0, 4).map((m) => m.seq_id as number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(received.slice(0, 4).every((m) => m.run_id === runId)).toBe(true);
    expect(received[4]).toMatchObject({ stop_reason: "end_turn" });
    expect(received[5]).toMatchObject({ prompt_tokens: 5, completion_tokens: 2, total_tokens: 7, step_count: 1 });
    // Chunks are streamed but are not messages.
    const messages = (await world().call(t.readKey, { method: "GET", url: `/v1/runs/${runId}/messages` })).json();
    expect(messages).toHaveLength(2);
  });

  it("a reconnect with starting_after resumes without losing or repeating an event", async () => {
    const t = await world().tenant();
    const runId = await liveRun(world(), t);
    const client = new Letta({ apiKey: t.readKey, baseURL: world().baseUrl, maxRetries: 0 });
    const batch = (from: number) => ({ messages: Array.from({ length: 5 }, (_, i) => ({ message_type: "assistant_message", content: `m${from + i}` })) });
    await post(world(), t.writeKey, `/v1/runs/${runId}/messages`, batch(0));
    const seen: Record<string, unknown>[] = [];
    const first = await client.runs.messages.stream(runId, {});
    for await (const chunk of first) {
      seen.push(chunk as Record<string, unknown>);
      if (seen.length === 3) break; // the client disconnects mid-stream
    }
    await post(world(), t.writeKey, `/v1/runs/${runId}/messages`, batch(5));
    await post(world(), t.writeKey, `/v1/runs/${runId}`, { status: "completed" }, "PATCH");
    const resumed = await client.runs.messages.stream(runId, { starting_after: seen.at(-1)!.seq_id as number });
    for await (const chunk of resumed) seen.push(chunk as Record<string, unknown>);
    const contents = seen.filter((m) => m.message_type === "assistant_message").map((m) => m.content);
    expect(contents).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    expect(seen.at(-2)).toMatchObject({ message_type: "stop_reason", stop_reason: "end_turn" });
  });

  it("streams a finished run from the start and ends at once; pings when asked", async () => {
    const t = await world().tenant();
    const runId = await liveRun(world(), t);
    const live = readSse(`${world().baseUrl}/v1/runs/${runId}/stream`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.readKey}`, "content-type": "application/json" },
      body: JSON.stringify({ include_pings: true }),
    });
    const pinged = await collect(live, (events) => events.some((e) => e.data.includes('"ping"')));
    expect(JSON.parse(pinged.at(-1)!.data)).toMatchObject({ message_type: "ping", run_id: runId });
    await post(world(), t.writeKey, `/v1/runs/${runId}/cancel`, {});
    const replay = readSse(`${world().baseUrl}/v1/runs/${runId}/stream`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.readKey}`, "content-type": "application/json" },
      body: "{}",
    });
    const events = await collect(replay, () => false);
    expect(events.map((e) => e.data).at(-1)).toBe("[DONE]");
    expect(JSON.parse(events[0]!.data)).toMatchObject({ message_type: "stop_reason", stop_reason: "cancelled" });
    expect(events.every((e) => e.event === undefined)).toBe(true);
  });

  it("the run's event feed is standard SSE with ids, and Last-Event-ID resumes it", async () => {
    const t = await world().tenant();
    const runId = await liveRun(world(), t);
    const headers = { authorization: `Bearer ${t.readKey}` };
    const feed = readSse(`${world().baseUrl}/v1/runs/${runId}/events`, { headers });
    const step = await post(world(), t.writeKey, `/v1/runs/${runId}/steps`, { model: "m" });
    const firstPart = await collect(feed, (events) => events.some((e) => e.event === "step"));
    const data = firstPart.filter((e) => e.id !== undefined);
    // The log opens with the run's creation, then its move to running.
    expect(data.map((e) => e.event)).toEqual(["status", "status", "step"]);
    expect(data.slice(0, 2).map((e) => JSON.parse(e.data).status)).toEqual(["created", "running"]);
    expect(JSON.parse(data[2]!.data).step.id).toBe(step.id);
    await post(world(), t.writeKey, `/v1/runs/${runId}/messages`, { messages: [{ message_type: "user_message", content: "x" }] });
    await post(world(), t.writeKey, `/v1/runs/${runId}`, { status: "failed", stop_reason: "llm_api_error" }, "PATCH");
    const resumed = await collect(readSse(`${world().baseUrl}/v1/runs/${runId}/events`, { headers: { ...headers, "last-event-id": data[2]!.id! } }), () => false);
    expect(resumed.filter((e) => e.id !== undefined).map((e) => e.event)).toEqual(["message", "status"]);
    expect(resumed.at(-1)).toMatchObject({ event: "end" });
    expect(JSON.parse(resumed.at(-1)!.data)).toMatchObject({ status: "failed" });
    const ids = [...data, ...resumed].filter((e) => e.id !== undefined).map((e) => Number(e.id));
    expect(ids).toEqual([1, 2, 3, 4, 5]);
  });

  it("the organization feed carries only matching runs' events, live, and resumes by event id", async () => {
    const t = await world().tenant();
    const other = await world().tenant();
    const watched = await t.agent("watched");
    const ignored = await t.agent("ignored");
    const headers = { authorization: `Bearer ${t.readKey}` };
    const controller = new AbortController();
    const feed = readSse(`${world().baseUrl}/v1/runs/events?agent_id=${watched}`, { headers, signal: controller.signal });
    // The feed starts "from now": wait until it says it is attached.
    const first = await feed.next();
    expect(first.value).toMatchObject({ comment: "ready" });
    const pending = collect(feed, (events) => events.filter((e) => e.event === "status").length >= 3);
    const a = await post(world(), t.writeKey, "/v1/runs", { agent_id: watched });
    await post(world(), t.writeKey, "/v1/runs", { agent_id: ignored }).then((r) => post(world(), t.writeKey, `/v1/runs/${r.id}/cancel`, {}));
    const otherAgent = await other.agent();
    await post(world(), other.writeKey, "/v1/runs", { agent_id: otherAgent }).then((r) => post(world(), other.writeKey, `/v1/runs/${r.id}/cancel`, {}));
    await post(world(), t.writeKey, `/v1/runs/${a.id}`, { status: "running" }, "PATCH");
    await post(world(), t.writeKey, `/v1/runs/${a.id}/cancel`, {});
    const events = (await pending).filter((e) => e.id !== undefined);
    controller.abort();
    expect(events.map((e) => JSON.parse(e.data).run_id)).toEqual([a.id, a.id, a.id]);
    expect(events.map((e) => JSON.parse(e.data).status)).toEqual(["created", "running", "cancelled"]);
    const resumed = await collect(
      readSse(`${world().baseUrl}/v1/runs/events?agent_id=${watched}`, { headers: { ...headers, "last-event-id": events[1]!.id! } }),
      (got) => got.some((e) => e.id !== undefined),
    );
    expect(JSON.parse(resumed.find((e) => e.id !== undefined)!.data).status).toBe("cancelled");
  });

  it("an organization-feed event that commits late carries the resume point, so a resume repeats nothing", async ({ skip }) => {
    if (world().backend !== "postgres") skip("SQLite commits in id order: no event can commit late");
    const t = await world().tenant();
    const slow = await liveRun(world(), t);
    const fast = await liveRun(world(), t);
    const headers = { authorization: `Bearer ${t.readKey}` };
    const controller = new AbortController();
    const feed = readSse(`${world().baseUrl}/v1/runs/events`, { headers, signal: controller.signal });
    expect((await feed.next()).value).toMatchObject({ comment: "ready" });
    // A transaction takes an event id, and commits only after an event with a larger id did.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const late = storeOf(world().ledger).driver.transaction(async (tx) => {
      await tx.run("INSERT INTO run_events (run_id, seq_id, organization_id, kind, event, created_at) VALUES (?, ?, ?, 'message', ?, ?)", [
        slow,
        1000,
        t.orgId,
        JSON.stringify({ message_type: "assistant_message", content: "late", run_id: slow, seq_id: 1000 }),
        new Date().toISOString(),
      ]);
      await gate;
    });
    const say = (content: string) => post(world(), t.writeKey, `/v1/runs/${fast}/messages`, { messages: [{ message_type: "assistant_message", content }] });
    const contentOf = (e: SseEvent) => (e.id === undefined ? undefined : (JSON.parse(e.data) as { content?: string }).content);
    let seen: SseEvent[] = [];
    const delivered = collect(feed, (got) => {
      seen = got;
      return got.some((e) => contentOf(e) === "late");
    });
    await say("one");
    await waitFor("the first message", () => seen.some((e) => contentOf(e) === "one"));
    release();
    await late;
    // The next notice wakes the follower: it reads "two", then finds "late" below its cursor.
    await say("two");
    const events = (await delivered).filter((e) => e.id !== undefined);
    controller.abort();
    expect(events.map(contentOf)).toEqual(["one", "two", "late"]);
    expect(events[2]!.id).toBe(events[1]!.id);

    const resumed = collect(
      readSse(`${world().baseUrl}/v1/runs/events`, { headers: { ...headers, "last-event-id": events[2]!.id! } }),
      (got) => got.some((e) => e.id !== undefined),
    );
    await say("three");
    expect((await resumed).filter((e) => e.id !== undefined).map(contentOf)).toEqual(["three"]);
  });

  it("refuses chunks for ended runs and streams for unknown runs, before any stream starts", async () => {
    const t = await world().tenant();
    const runId = await liveRun(world(), t);
    await post(world(), t.writeKey, `/v1/runs/${runId}/cancel`, {});
    const late = await world().call(t.writeKey, { method: "POST", url: `/v1/runs/${runId}/events`, payload: { chunks: [{ message_type: "assistant_message", content: "x" }] } });
    expect(late.statusCode).toBe(409);
    const missing = await world().call(t.readKey, { method: "POST", url: "/v1/runs/run-00000000-0000-4000-8000-000000000000/stream", payload: {} });
    expect(missing.statusCode).toBe(404);
    const other = await world().tenant();
    expect((await world().call(other.readKey, { method: "GET", url: `/v1/runs/${runId}/events` })).statusCode).toBe(404);
  });
});
