/**
 * Two real server processes on one PostgreSQL database: a write through one reaches live
 * followers connected to the other, and a cancel sent to one reaches a producer attached
 * to the other.
 */
import Letta from "@letta-ai/letta-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunledgerClient } from "../../src/client/http-client.js";
import { RunCancelledError, track } from "../../src/client/track.js";
import { openLedger } from "../../src/ledger.js";
import { BACKENDS, POSTGRES_URL, uniqueSchema } from "../support/backends.js";
import { ADMIN_KEY, exited, start, type Started } from "../support/process.js";
import { collect, readSse } from "../support/sse.js";
import { aborted } from "../support/wait.js";
import { storeOf } from "../../src/store/store.js";

describe.skipIf(!BACKENDS[1]!.available)("two server processes on PostgreSQL", () => {
  const schema = uniqueSchema();
  const url = `${POSTGRES_URL}?schema=${schema}`;
  let a: Started;
  let b: Started;
  let agentId: string;
  const auth = { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" };
  const post = async (base: string, path: string, body: object, method = "POST") => {
    const response = await fetch(`${base}${path}`, { method, headers: auth, body: JSON.stringify(body) });
    expect(response.status, await response.clone().text()).toBeLessThan(300);
    return (await response.json()) as { id: string };
  };

  beforeAll(async () => {
    const env = { DATABASE_URL: url, RUNLEDGER_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: "info" };
    a = await start(["serve", "--port", "0"], env);
    b = await start(["serve", "--port", "0"], env);
    agentId = (await post(a.baseUrl, "/v1/agents", { name: "cross-process" })).id;
  }, 60_000);

  afterAll(async () => {
    for (const server of [a, b]) {
      server?.child.kill("SIGTERM");
      if (server) await exited(server.child);
    }
    const ledger = await openLedger({ url, listen: false });
    await storeOf(ledger).driver.run(`DROP SCHEMA ${schema} CASCADE`);
    await ledger.close();
  });

  it("a follower on one process sees writes made through the other, live", async () => {
    const run = await post(a.baseUrl, "/v1/runs", { agent_id: agentId });
    const feed = readSse(`${b.baseUrl}/v1/runs/${run.id}/events`, { headers: auth });
    const pending = collect(feed, (events) => events.some((e) => e.event === "end"));
    await post(a.baseUrl, `/v1/runs/${run.id}`, { status: "running" }, "PATCH");
    await post(a.baseUrl, `/v1/runs/${run.id}/messages`, { messages: [{ message_type: "assistant_message", content: "hi" }] });
    await post(a.baseUrl, `/v1/runs/${run.id}`, { status: "completed" }, "PATCH");
    const events = (await pending).filter((e) => e.id !== undefined);
    // created, running, the message, completed.
    expect(events.map((e) => e.event)).toEqual(["status", "status", "message", "status"]);
  });

  it("Letta's client streaming from one process follows a run written through the other", async () => {
    const run = await post(a.baseUrl, "/v1/runs", { agent_id: agentId });
    await post(a.baseUrl, `/v1/runs/${run.id}`, { status: "running" }, "PATCH");
    const client = new Letta({ apiKey: ADMIN_KEY, baseURL: b.baseUrl, maxRetries: 0 });
    const stream = await client.runs.messages.stream(run.id, {});
    const types: string[] = [];
    const consumed = (async () => {
      for await (const chunk of stream) types.push((chunk as { message_type: string }).message_type);
    })();
    await post(a.baseUrl, `/v1/runs/${run.id}/events`, { chunks: [{ message_type: "assistant_message", content: "to" }] });
    await post(a.baseUrl, `/v1/runs/${run.id}`, { status: "completed" }, "PATCH");
    await consumed;
    expect(types).toEqual(["assistant_message", "stop_reason", "usage_statistics"]);
  });

  it("a cancel sent to one process aborts the producer's signal attached to the other", async () => {
    const producer = new RunledgerClient({ baseUrl: a.baseUrl, apiKey: ADMIN_KEY });
    const outcome = track(producer, { agent_id: agentId }, async (run) => {
      await post(b.baseUrl, `/v1/runs/${run.id}/cancel`, {});
      await aborted(run.signal, 5_000);
      return "stopped";
    });
    await expect(outcome).rejects.toBeInstanceOf(RunCancelledError);
  });
});
