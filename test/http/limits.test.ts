/**
 * The server's limits per API key: a request rate (off unless configured), a cap on open
 * event streams, and a bounded buffer per stream that disconnects a reader who stops
 * reading — who then resumes from its cursor and loses nothing.
 */
import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { TokenBuckets } from "../../src/http/rate-limit.js";
import { forEachServer, type HttpTenant, type HttpWorld } from "../support/server.js";
import { collect, readSse } from "../support/sse.js";
import { waitFor } from "../support/wait.js";

async function liveRun(world: HttpWorld, t: HttpTenant): Promise<string> {
  const agent = await t.agent();
  const run = (await world.call(t.writeKey, { method: "POST", url: "/v1/runs", payload: { agent_id: agent } })).json();
  await world.call(t.writeKey, { method: "PATCH", url: `/v1/runs/${run.id}`, payload: { status: "running" } });
  return run.id as string;
}

async function metric(world: HttpWorld, name: string): Promise<number> {
  const text = (await world.call(undefined, { method: "GET", url: "/metrics" })).body;
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

describe("token buckets", () => {
  it("allow a burst, then one request per refill, and say when to retry", () => {
    let now = 0;
    const buckets = new TokenBuckets({ requests: 2, periodMs: 1_000, burst: 4 }, () => now);
    const taken = Array.from({ length: 5 }, () => buckets.take("k"));
    expect(taken.map((t) => t.allowed)).toEqual([true, true, true, true, false]);
    expect(taken.map((t) => t.remaining)).toEqual([3, 2, 1, 0, 0]);
    expect(taken[4]!.retryAfterMs).toBe(500);
    expect(taken[4]!.resetMs).toBe(2_000);
    now = 499;
    expect(buckets.take("k").allowed).toBe(false);
    now = 1_000;
    expect(buckets.take("k").allowed).toBe(true);
    // Another key has its own bucket.
    expect(buckets.take("other").remaining).toBe(3);
  });

  it("forget keys once their buckets have refilled, so idle keys hold no memory", () => {
    let now = 0;
    const buckets = new TokenBuckets({ requests: 10, periodMs: 1_000, burst: 10 }, () => now);
    for (let i = 0; i < 1_000; i++) buckets.take(`key-${i}`);
    expect(buckets.size).toBe(1_000);
    now = 500;
    buckets.take("busy");
    expect(buckets.size).toBe(1_001);
    // Past the refill time (1 s) every idle bucket is full again: the next request sweeps them.
    now = 1_200;
    buckets.take("busy");
    expect(buckets.size).toBe(1);
  });
});

/**
 * An organization with a read and a write key and a running run, made in process: the
 * superuser's own allowance is not spent on setting up each test.
 */
async function limitedTenant(world: HttpWorld) {
  const { ledger } = world;
  const org = await ledger.organizations.createTrusted("limited");
  const admin = { organization_id: org.id, role: "admin" as const };
  const readKey = (await ledger.apiKeys.create(admin, { role: "read" })).key;
  const writeKey = (await ledger.apiKeys.create(admin, { role: "write" })).key;
  const agent = await ledger.agents.create(admin, { name: "agent" });
  const run = await ledger.runs.create(admin, { agent_id: agent.id });
  await ledger.runs.update(admin, run.id, { status: "running" });
  return { readKey, writeKey, runId: run.id };
}

forEachServer(
  "rate limit per API key",
  (world) => {
    it("answers 429 with Retry-After past the limit, per key, and tells the caller where it stands", async () => {
      const t = await limitedTenant(world());
      const list = (key: string) => world().call(key, { method: "GET", url: "/v1/runs/" });
      const allowed = [];
      for (let i = 0; i < 5; i++) allowed.push(await list(t.readKey));
      expect(allowed.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
      expect(allowed.map((r) => r.headers["ratelimit-remaining"])).toEqual(["4", "3", "2", "1", "0"]);
      expect(allowed[0]!.headers["ratelimit-limit"]).toBe("5");
      expect(Number(allowed[4]!.headers["ratelimit-reset"])).toBeGreaterThan(55);

      const refused = await list(t.readKey);
      expect(refused.statusCode).toBe(429);
      const retryAfter = Number(refused.headers["retry-after"]);
      // One request refills every 12 s; a little of that has passed, and the wait is rounded up.
      expect(retryAfter).toBe(12);
      expect(refused.json()).toEqual({
        code: "RATE_LIMITED",
        detail: `rate limit of 5 requests per minute per API key exceeded; retry in ${retryAfter} s`,
      });
      expect(refused.headers["x-request-id"]).toBeDefined();
      expect(refused.headers["ratelimit-remaining"]).toBe("0");

      // Another key of the same organization has its own allowance.
      expect((await list(t.writeKey)).statusCode).toBe(200);
      expect(await metric(world(), 'runledger_limit_refusals_total{limit="rate"}')).toBeGreaterThanOrEqual(1);
    });

    it("does not limit health, metrics, the API description or the dashboard, even for a key past its limit", async () => {
      const t = await limitedTenant(world());
      for (let i = 0; i < 5; i++) await world().call(t.readKey, { method: "GET", url: "/v1/runs/" });
      expect((await world().call(t.readKey, { method: "GET", url: "/v1/runs/" })).statusCode).toBe(429);
      for (const url of ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/", "/runs"]) {
        for (let i = 0; i < 8; i++) {
          const response = await world().call(t.readKey, { method: "GET", url });
          // The dashboard's pages answer 503 in a checkout where it was never built.
          expect([200, 302, 503], url).toContain(response.statusCode);
          expect(response.headers["ratelimit-limit"]).toBeUndefined();
        }
      }
    });

    it("counts event streams as requests and sends the RateLimit headers with the stream", async () => {
      const { readKey, runId } = await limitedTenant(world());
      const controller = new AbortController();
      const response = await fetch(`${world().baseUrl}/v1/runs/${runId}/events`, { headers: { authorization: `Bearer ${readKey}` }, signal: controller.signal });
      expect(response.status).toBe(200);
      expect(response.headers.get("ratelimit-limit")).toBe("5");
      expect(response.headers.get("ratelimit-remaining")).toBe("4");
      controller.abort();
    });
  },
  { limits: { rate: { requests: 5, periodMs: 60_000, burst: 5 } } },
);

/** Opens an event stream and returns its response (the body unread) and a way to drop it. */
async function openStream(world: HttpWorld, key: string, path: string, method = "GET") {
  const controller = new AbortController();
  const response = await fetch(`${world.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(method === "POST" ? { "content-type": "application/json" } : {}) },
    body: method === "POST" ? "{}" : undefined,
    signal: controller.signal,
  });
  return { response, close: () => controller.abort() };
}

forEachServer(
  "open event streams per API key",
  (world) => {
    it("refuses a stream past the cap with 429 naming it, on every streaming route, and a closed stream frees its slot", async () => {
      const t = await world().tenant();
      const runId = await liveRun(world(), t);
      const streams = [
        await openStream(world(), t.readKey, `/v1/runs/${runId}/events`),
        await openStream(world(), t.readKey, "/v1/runs/events"),
        await openStream(world(), t.readKey, `/v1/runs/${runId}/stream`, "POST"),
      ];
      expect(streams.map((s) => s.response.status)).toEqual([200, 200, 200]);
      for (const [path, method] of [[`/v1/runs/${runId}/events`, "GET"], ["/v1/runs/events", "GET"], [`/v1/runs/${runId}/stream`, "POST"]] as const) {
        const refused = await openStream(world(), t.readKey, path, method);
        expect(refused.response.status, path).toBe(429);
        const body = (await refused.response.json()) as { code: string; detail: string };
        expect(body.code).toBe("TOO_MANY_STREAMS");
        expect(body.detail).toContain("already has 3 open event streams");
        expect(body.detail).toContain("RUNLEDGER_MAX_STREAMS_PER_KEY=3");
      }
      // Other keys are not affected.
      const other = await openStream(world(), t.writeKey, `/v1/runs/${runId}/events`);
      expect(other.response.status).toBe(200);
      other.close();

      // The client goes away: its slot is free again.
      streams[1]!.close();
      const reopened = await waitFor("a freed stream slot", async () => {
        const attempt = await openStream(world(), t.readKey, "/v1/runs/events");
        if (attempt.response.status === 200) return attempt;
        await attempt.response.body?.cancel();
        return undefined;
      });
      expect(await metric(world(), 'runledger_limit_refusals_total{limit="streams"}')).toBeGreaterThanOrEqual(3);
      streams[1] = reopened;

      // The server ends the run's streams when the run ends: their slots are free again.
      await world().call(t.writeKey, { method: "PATCH", url: `/v1/runs/${runId}`, payload: { status: "completed" } });
      const next = await liveRun(world(), t);
      const after = await waitFor("slots freed by ended streams", async () => {
        const attempt = await openStream(world(), t.readKey, `/v1/runs/${next}/events`);
        if (attempt.response.status === 200) return attempt;
        await attempt.response.body?.cancel();
        return undefined;
      });
      const second = await openStream(world(), t.readKey, `/v1/runs/${next}/events`);
      expect(second.response.status).toBe(200);
      // The organization feed never ends by itself: it still holds the third slot.
      expect((await openStream(world(), t.readKey, `/v1/runs/${next}/events`)).response.status).toBe(429);
      for (const s of [...streams, after, second]) s.close();
    });

    it("holds no slot for a client that left before its stream started", async () => {
      const t = await world().tenant();
      const runId = await liveRun(world(), t);
      const url = new URL(world().baseUrl);
      for (let i = 0; i < 6; i++) {
        const socket = connect(Number(url.port), url.hostname);
        socket.end(`GET /v1/runs/${runId}/events HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${t.readKey}\r\n\r\n`);
        socket.on("connect", () => socket.destroy());
        await new Promise((resolve) => socket.on("close", resolve));
      }
      await waitFor("every stream of the departed clients to close", async () => (await metric(world(), "runledger_sse_streams")) === 0);
      const streams = [];
      for (let i = 0; i < 3; i++) streams.push(await openStream(world(), t.readKey, `/v1/runs/${runId}/events`));
      expect(streams.map((s) => s.response.status)).toEqual([200, 200, 200]);
      for (const s of streams) s.close();
    });

    it("still serves a whole stream to an in-process request, which has no real socket", async () => {
      const t = await world().tenant();
      const runId = await liveRun(world(), t);
      await world().call(t.writeKey, { method: "POST", url: `/v1/runs/${runId}/messages`, payload: { messages: [{ message_type: "assistant_message", content: "hi" }] } });
      await world().call(t.writeKey, { method: "PATCH", url: `/v1/runs/${runId}`, payload: { status: "completed" } });
      const response = await world().call(t.readKey, { method: "POST", url: `/v1/runs/${runId}/stream`, payload: {} });
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('"content":"hi"');
      expect(response.body.trimEnd().endsWith("data: [DONE]")).toBe(true);
    });

    it("sends no RateLimit headers and never answers 429 when no rate is configured", async () => {
      const t = await world().tenant();
      for (let i = 0; i < 50; i++) {
        const response = await world().call(t.readKey, { method: "GET", url: "/v1/runs/" });
        expect(response.statusCode).toBe(200);
        expect(response.headers["ratelimit-limit"]).toBeUndefined();
      }
    });

    it("publishes 429 for every authenticated operation and for none of the open ones", async () => {
      const doc = (await world().call(undefined, { method: "GET", url: "/openapi.json" })).json() as {
        paths: Record<string, Record<string, { responses: Record<string, { headers?: object }> }>>;
      };
      const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
      const limited = operations.filter((o) => o.path.startsWith("/v1/"));
      expect(limited.length).toBeGreaterThan(40);
      for (const { path, method, op } of limited) expect(op.responses["429"]?.headers, `${method} ${path}`).toHaveProperty("retry-after");
      for (const { path, op } of operations.filter((o) => !o.path.startsWith("/v1/"))) expect(op.responses["429"], path).toBeUndefined();
    });
  },
  { limits: { maxStreamsPerKey: 3 } },
);

const BUFFER = 64 * 1024;
const MESSAGES = 10_000;
const STALL_MS = 1_000;

interface RawStream {
  socket: Socket;
  /** Complete SSE blocks received so far, in order. */
  blocks: string[];
  ended: Promise<void>;
}

/**
 * A reader on a bare socket that can stop reading. HTTP/1.0, so the body arrives without
 * chunked framing and the bytes the server buffers are the events' own.
 */
function rawEventStream(world: HttpWorld, key: string, path: string): Promise<RawStream> {
  const url = new URL(world.baseUrl);
  const socket = connect(Number(url.port), url.hostname);
  socket.write(`GET ${path} HTTP/1.0\r\nHost: ${url.host}\r\nAuthorization: Bearer ${key}\r\nAccept: text/event-stream\r\n\r\n`);
  const blocks: string[] = [];
  let text = "";
  let headersDone = false;
  const ended = new Promise<void>((resolve) => {
    socket.on("close", () => resolve());
    socket.on("error", () => resolve());
  });
  return new Promise((resolve, reject) => {
    socket.on("data", (chunk) => {
      text += chunk.toString("utf8");
      if (!headersDone) {
        const end = text.indexOf("\r\n\r\n");
        if (end === -1) return;
        if (!text.startsWith("HTTP/1.1 200")) reject(new Error(`stream refused: ${text}`));
        headersDone = true;
        text = text.slice(end + 4);
      }
      for (let boundary = text.indexOf("\n\n"); boundary !== -1; boundary = text.indexOf("\n\n")) {
        blocks.push(text.slice(0, boundary));
        text = text.slice(boundary + 2);
      }
      if (blocks.length > 0) resolve({ socket, blocks, ended });
    });
    socket.on("error", reject);
  });
}

const idOf = (block: string) => Number(/^id: (\d+)$/m.exec(block)?.[1]);

async function appendMessages(world: HttpWorld, key: string, runId: string): Promise<void> {
  const content = "x".repeat(1_500);
  for (let i = 0; i < MESSAGES; i += 1_000) {
    const messages = Array.from({ length: 1_000 }, (_, j) => ({ message_type: "assistant_message", content: `${i + j} ${content}` }));
    const response = await world.call(key, { method: "POST", url: `/v1/runs/${runId}/messages`, payload: { messages } });
    expect(response.statusCode).toBe(201);
  }
}

// The reader shares this process's event loop with the server, so the server's own busy
// spells (a thousand messages appended at once) look like stalls; this server waits long.
forEachServer(
  "event-stream buffers",
  (world) => {
    it("keeps a reader that reads, however far a burst runs ahead of it: the stream waits for the socket instead", async () => {
      const t = await world().tenant();
      const runId = await liveRun(world(), t);
      const before = await metric(world(), "runledger_sse_slow_reader_disconnects_total");
      const stream = collect(
        readSse(`${world().baseUrl}/v1/runs/${runId}/events?kinds=message`, { headers: { authorization: `Bearer ${t.readKey}` } }),
        (events) => events.filter((e) => e.event === "message").length === MESSAGES,
        25_000,
      );
      await appendMessages(world(), t.writeKey, runId);
      const events = (await stream).filter((e) => e.event === "message");
      expect(events).toHaveLength(MESSAGES);
      expect(await metric(world(), "runledger_sse_slow_reader_disconnects_total")).toBe(before);
      // Chunked framing adds a few bytes to each event on the wire.
      const largestEvent = Math.max(...events.map((e) => Buffer.byteLength(`id: ${e.id}\nevent: message\ndata: ${e.data}\n\n`))) + 16;
      expect(await metric(world(), "runledger_sse_buffer_peak_bytes")).toBeLessThanOrEqual(BUFFER + largestEvent);
    }, 30_000);
  },
  { limits: { streamBufferBytes: BUFFER } },
);

forEachServer(
  "slow event-stream readers",
  (world) => {
    it("disconnects a reader that stops reading once its buffer is full, holding no more than the buffer, and the reader resumes without a gap", async () => {
      const t = await world().tenant();
      const runId = await liveRun(world(), t);
      const reader = await rawEventStream(world(), t.readKey, `/v1/runs/${runId}/events`);
      // Only the first event (the run's creation) is read; then the reader stops.
      reader.socket.pause();
      const before = await metric(world(), "runledger_sse_slow_reader_disconnects_total");
      await appendMessages(world(), t.writeKey, runId);
      await waitFor("the slow reader to be disconnected", async () => (await metric(world(), "runledger_sse_slow_reader_disconnects_total")) === before + 1, 20_000);
      expect(await metric(world(), "runledger_sse_streams")).toBe(0);

      // Reading again, the reader gets what was on its way and then the end of the connection.
      reader.socket.resume();
      await reader.ended;
      const received = reader.blocks.map(idOf).filter((id) => !Number.isNaN(id));
      expect(received.length).toBeLessThan(MESSAGES);
      // What waited in the server for this reader never passed the buffer by more than the event that filled it.
      const largestEvent = Math.max(...reader.blocks.map((b) => Buffer.byteLength(`${b}\n\n`)));
      expect(await metric(world(), "runledger_sse_buffer_peak_bytes")).toBeLessThanOrEqual(BUFFER + largestEvent);
      await world().call(t.writeKey, { method: "PATCH", url: `/v1/runs/${runId}`, payload: { status: "completed" } });

      const resumed = await collect(
        readSse(`${world().baseUrl}/v1/runs/${runId}/events`, { headers: { authorization: `Bearer ${t.readKey}`, "last-event-id": String(received.at(-1)) } }),
        (events) => events.at(-1)?.event === "end",
        20_000,
      );
      expect(resumed.at(-1)?.event).toBe("end");
      const all = [...received, ...resumed.filter((e) => e.id !== undefined).map((e) => Number(e.id))];
      // Every event once, in order, from the creation through the completion: created, running, the messages, completed.
      expect(all).toEqual(Array.from({ length: MESSAGES + 3 }, (_, i) => i + 1));
      expect(resumed.filter((e) => e.event === "message").length + reader.blocks.filter((b) => b.includes("event: message")).length).toBe(MESSAGES);
    }, 60_000);
  },
  { limits: { streamBufferBytes: BUFFER, streamStallMs: STALL_MS } },
);
