import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AddressGuard } from "../../src/webhooks/address-guard.js";
import { send, WebhookSender } from "../../src/webhooks/sender.js";
import { WebhookDispatcher } from "../../src/webhooks/dispatcher.js";
import { forEachBackend, type Tenant, type World } from "../support/fixtures.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { waitFor } from "../support/wait.js";
import { storeOf } from "../../src/store/store.js";

const ALLOW_LOCAL = ["127.0.0.1"];

forEachBackend(
  "webhooks",
  (world) => {
    let receiver: Receiver;
    let dispatcher: WebhookDispatcher;
    let t: Tenant;
    const dispatchErrors: unknown[] = [];
    const attempted: string[] = [];

    beforeAll(async () => {
      receiver = await startReceiver();
      dispatcher = new WebhookDispatcher(storeOf(world().ledger), world().ledger.bus, {
        guard: new AddressGuard(ALLOW_LOCAL),
        retryScheduleMs: [20, 20, 20],
        timeoutMs: 2_000,
        pollIntervalMs: 25,
        onError: (error) => dispatchErrors.push(error),
        onAttempt: (delivery) => attempted.push(delivery.run_id),
      });
      dispatcher.start();
    });
    afterAll(async () => {
      await dispatcher.stop();
      await receiver.close();
    });
    afterEach(() => {
      receiver.received.length = 0;
      receiver.respond = () => ({ status: 200 });
    });

    async function endedRun(w: World, end: "completed" | "failed" | "cancelled", metadata: Record<string, string> = {}) {
      t ??= await w.tenant();
      const run = await t.run({ status: "running", input: { callback_url: receiver.url, metadata } });
      await w.ledger.steps.record(t.writer, run.id, { prompt_tokens: 7, completion_tokens: 3, status: "success" });
      if (end === "cancelled") return w.ledger.runs.cancel(t.writer, run.id);
      return w.ledger.runs.update(t.writer, run.id, end === "completed" ? { status: "completed" } : { status: "failed", stop_reason: "llm_api_error" });
    }

    it("delivers a signed payload that an independent Standard Webhooks implementation verifies", async () => {
      const run = await endedRun(world(), "completed", { order: "42" });
      const got = await waitFor("the webhook", () => receiver.received.find((r) => r.body.includes(run.id)));
      const { secret } = await world().ledger.webhooks.getSecret(t.admin);
      const payload = new Webhook(secret).verify(got.body, got.headers as Record<string, string>) as Record<string, unknown>;
      expect(payload).toMatchObject({
        type: "run.completed",
        run_id: run.id,
        status: "completed",
        stop_reason: "end_turn",
        completed_at: run.completed_at,
        metadata: { order: "42" },
        usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10, step_count: 1 },
      });
      expect(got.headers["webhook-id"]).toMatch(/^delivery-/);
      await waitFor("the run's callback fields", async () => (await world().ledger.runs.get(t.reader, run.id)).callback_status_code === 200);
      const current = await world().ledger.runs.get(t.reader, run.id);
      expect(current.callback_sent_at).not.toBeNull();
      expect(current.callback_error).toBeNull();
    });

    it("retries 500s with the same webhook-id and records every attempt", async () => {
      receiver.respond = (_r, index) => ({ status: index < 2 ? 500 : 200 });
      const run = await endedRun(world(), "failed");
      await waitFor("the third attempt", () => receiver.received.length === 3);
      expect(new Set(receiver.received.map((r) => r.headers["webhook-id"])).size).toBe(1);
      const [delivery] = await waitFor("the log to show delivery", async () => {
        const log = await world().ledger.webhooks.deliveries(t.reader, run.id);
        return log[0]?.status === "delivered" ? log : undefined;
      });
      expect(delivery!.attempt_log.map((a) => [a.status_code, a.outcome])).toEqual([
        [500, "retry"],
        [500, "retry"],
        [200, "delivered"],
      ]);
      expect(JSON.parse(receiver.received[2]!.body)).toMatchObject({ type: "run.failed", stop_reason: "llm_api_error" });
    });

    it("finishes quietly an attempt whose run was deleted while the webhook was being sent", async () => {
      let answer!: () => void;
      const answered = new Promise<{ status: number }>((resolve) => (answer = () => resolve({ status: 200 })));
      receiver.respond = () => answered;
      const run = await endedRun(world(), "completed");
      await waitFor("the webhook to arrive", () => receiver.received.find((r) => r.body.includes(run.id)));
      await world().ledger.runs.delete(t.writer, run.id);
      const errorsBefore = dispatchErrors.length;
      answer();
      await waitFor("the attempt to finish", () => attempted.includes(run.id) || dispatchErrors.length > errorsBefore);
      expect(dispatchErrors.slice(errorsBefore)).toEqual([]);
      await expect(world().ledger.runs.get(t.reader, run.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    });

    it("sends a cancelled run's webhook", async () => {
      const run = await endedRun(world(), "cancelled");
      const got = await waitFor("the webhook", () => receiver.received.find((r) => r.body.includes(run.id)));
      expect(JSON.parse(got.body)).toMatchObject({ type: "run.cancelled", status: "cancelled", stop_reason: "cancelled" });
    });

    it("stops at once on 410 Gone, and marks an exhausted delivery dead", async () => {
      receiver.respond = () => ({ status: 410 });
      const gone = await endedRun(world(), "completed");
      const [dead] = await waitFor("the dead delivery", async () => {
        const log = await world().ledger.webhooks.deliveries(t.reader, gone.id);
        return log[0]?.status === "dead" ? log : undefined;
      });
      expect(dead!.attempts).toBe(1);
      receiver.respond = () => ({ status: 503 });
      const failing = await endedRun(world(), "completed");
      const [exhausted] = await waitFor("the exhausted delivery", async () => {
        const log = await world().ledger.webhooks.deliveries(t.reader, failing.id);
        return log[0]?.status === "dead" ? log : undefined;
      });
      expect(exhausted!.attempts).toBe(4); // the first try and three retries
      expect((await world().ledger.runs.get(t.reader, failing.id)).callback_status_code).toBe(503);
    });

    it("honours Retry-After", async () => {
      receiver.respond = () => ({ status: 429, headers: { "retry-after": "3600" } });
      const run = await endedRun(world(), "completed");
      const [waiting] = await waitFor("the first attempt", async () => {
        const log = await world().ledger.webhooks.deliveries(t.reader, run.id);
        return log[0]?.attempts === 1 ? log : undefined;
      });
      expect(Date.parse(waiting!.next_attempt_at) - Date.parse(waiting!.attempt_log[0]!.started_at)).toBeGreaterThanOrEqual(3_500_000);
    });

    it("redelivers on request with the same webhook-id", async () => {
      const run = await endedRun(world(), "completed");
      const first = await waitFor("the webhook", () => receiver.received.find((r) => r.body.includes(run.id)));
      await waitFor("delivered", async () => (await world().ledger.webhooks.deliveries(t.reader, run.id))[0]?.status === "delivered");
      await world().ledger.webhooks.redeliver(t.writer, run.id);
      await waitFor("the second send", () => receiver.received.filter((r) => r.body.includes(run.id)).length === 2);
      expect(receiver.received.filter((r) => r.body.includes(run.id)).map((r) => r.headers["webhook-id"])).toEqual([
        first.headers["webhook-id"],
        first.headers["webhook-id"],
      ]);
    });

    it("signs with both secrets while a rotation overlaps", async () => {
      const before = await world().ledger.webhooks.getSecret(t.admin);
      const after = await world().ledger.webhooks.rotateSecret(t.admin);
      expect(after.secret).not.toBe(before.secret);
      expect(after.previous_secret_expires_at).not.toBeNull();
      const run = await endedRun(world(), "completed");
      const got = await waitFor("the webhook", () => receiver.received.find((r) => r.body.includes(run.id)));
      expect((got.headers["webhook-signature"] as string).split(" ")).toHaveLength(2);
      for (const secret of [before.secret, after.secret]) {
        expect(() => new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).not.toThrow();
      }
    });

    it("signs each delivery with the secrets its organization has when its batch is claimed", async () => {
      t ??= await world().tenant();
      const first = await world().ledger.webhooks.getSecret(t.admin);
      await world().ledger.webhooks.rotateSecret(t.admin);
      const run = await endedRun(world(), "completed");
      await waitFor("the webhook after one rotation", () => receiver.received.find((r) => r.body.includes(run.id)));
      // A second rotation between batches: the next delivery drops the first secret.
      const second = await world().ledger.webhooks.getSecret(t.admin);
      const third = await world().ledger.webhooks.rotateSecret(t.admin);
      const other = await world().tenant();
      const otherRun = await other.run({ status: "running", input: { callback_url: receiver.url } });
      const [next] = await Promise.all([endedRun(world(), "completed"), world().ledger.runs.update(other.writer, otherRun.id, { status: "completed" })]);
      const got = await waitFor("the webhook after two rotations", () => receiver.received.find((r) => r.body.includes(next.id)));
      const verifies = (secret: string, r = got) => {
        try {
          new Webhook(secret).verify(r.body, r.headers as Record<string, string>);
          return true;
        } catch {
          return false;
        }
      };
      expect([first.secret, second.secret, third.secret].map((secret) => verifies(secret))).toEqual([false, true, true]);
      // Another organization's delivery, claimed alongside, carries its own secret only.
      const theirs = await waitFor("the other organization's webhook", () => receiver.received.find((r) => r.body.includes(otherRun.id)));
      const { secret: otherSecret } = await world().ledger.webhooks.getSecret(other.admin);
      expect((theirs.headers["webhook-signature"] as string).split(" ")).toHaveLength(1);
      expect([verifies(otherSecret, theirs), verifies(third.secret, theirs)]).toEqual([true, false]);
    });

    it("refuses private and loopback callback URLs unless allowlisted, at create and at connect time", async () => {
      const strict = new AddressGuard();
      expect(() => strict.checkUrl("http://127.0.0.1:9/hook")).toThrow(/RUNLEDGER_WEBHOOK_ALLOWLIST/);
      expect(() => strict.checkUrl("http://169.254.169.254/latest/meta-data")).toThrow(/metadata/);
      expect(() => strict.checkUrl("http://[::1]/x")).toThrow();
      expect(() => strict.checkUrl("http://10.1.2.3/x")).toThrow();
      expect(() => strict.checkUrl("http://localhost/x")).toThrow();
      expect(() => strict.checkUrl("https://example.com/hook")).not.toThrow();
      // A name that resolves to a loopback address is refused when the delivery connects.
      const port = new URL(receiver.url).port;
      const refused = await send(`http://localhost:${port}/hook`, {}, "{}", strict, 2_000);
      expect(refused.error).toMatch(/refused/);
      expect(receiver.received).toHaveLength(0);
      const allowed = await send(`http://localhost:${port}/hook`, {}, "{}", new AddressGuard(["localhost"]), 2_000);
      expect(allowed.statusCode).toBe(200);
    });
  },
  { webhookAllowlist: ALLOW_LOCAL },
);

forEachBackend("webhook URL validation", (world) => {
  it("rejects a loopback callback_url at create time with a clear 4xx-class error, writing nothing", async () => {
    const t = await world().tenant();
    const agent = await t.agent();
    await expect(world().ledger.runs.create(t.writer, { agent_id: agent.id, callback_url: "http://127.0.0.1:8080/hook" })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("RUNLEDGER_WEBHOOK_ALLOWLIST"),
    });
    expect(await world().ledger.runs.list(t.reader)).toEqual([]);
  });
});

describe("webhook connections", () => {
  let receiver: Receiver;
  let sender: WebhookSender | undefined;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterEach(() => {
    sender?.close();
    receiver.received.length = 0;
    receiver.respond = () => ({ status: 200 });
  });
  afterAll(() => receiver.close());

  const post = (url = receiver.url) => sender!.send(url, { "webhook-id": "delivery-x" }, "{}", 2_000);

  it("sends one origin's deliveries over one kept-alive connection, and opens a new one after the idle timeout", async () => {
    sender = new WebhookSender(new AddressGuard(ALLOW_LOCAL), { maxSocketsPerOrigin: 4, idleTimeoutMs: 200 });
    const accepted = receiver.connections.accepted;
    for (let i = 0; i < 5; i++) expect((await post()).statusCode).toBe(200);
    expect(receiver.connections.accepted - accepted).toBe(1);
    expect(new Set(receiver.received.map((r) => r.remotePort)).size).toBe(1);
    await waitFor("the idle connection to close", () => receiver.connections.open === 0);
    expect((await post()).statusCode).toBe(200);
    expect(receiver.connections.accepted - accepted).toBe(2);
  });

  it("opens at most maxSocketsPerOrigin connections to an origin", async () => {
    sender = new WebhookSender(new AddressGuard(ALLOW_LOCAL), { maxSocketsPerOrigin: 2 });
    const accepted = receiver.connections.accepted;
    const results = await Promise.all(Array.from({ length: 8 }, () => post()));
    expect(results.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
    expect(receiver.connections.accepted - accepted).toBe(2);
  });

  it("refuses an address the guard refuses while a connection to the same receiver is pooled", async () => {
    // The receiver is reachable by the allowlisted name; its address itself is not allowlisted.
    sender = new WebhookSender(new AddressGuard(["localhost"]), { maxSocketsPerOrigin: 4 });
    const port = new URL(receiver.url).port;
    expect((await post(`http://localhost:${port}/hook`)).statusCode).toBe(200);
    expect(receiver.connections.open).toBeGreaterThan(0);
    const refused = await post(`http://127.0.0.1:${port}/hook`);
    expect(refused.error).toMatch(/refused: 127\.0\.0\.1 is a loopback/);
    expect(receiver.received).toHaveLength(1);
    expect((await post(`http://localhost:${port}/hook`)).statusCode).toBe(200);
  });

  it("sends again on a new connection when the receiver dropped the pooled one, and not when a new one fails", async () => {
    sender = new WebhookSender(new AddressGuard(ALLOW_LOCAL), { maxSocketsPerOrigin: 1 });
    receiver.respond = (_r, index) => (index === 1 ? "reset" : { status: 200 });
    expect((await post()).statusCode).toBe(200);
    expect((await post()).statusCode).toBe(200);
    expect(receiver.received).toHaveLength(3);
    expect(receiver.received[2]!.remotePort).not.toBe(receiver.received[0]!.remotePort);
    receiver.respond = () => "reset";
    sender.close();
    const failed = await post();
    expect(failed.error).toMatch(/socket hang up/);
    expect(receiver.received).toHaveLength(4);
  });
});
