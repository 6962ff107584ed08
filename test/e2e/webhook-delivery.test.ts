/**
 * Webhooks across process boundaries: a server killed with SIGKILL mid-delivery delivers
 * after restart, and two dispatchers sharing one PostgreSQL database never send the same
 * attempt twice.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openLedger } from "../../src/ledger.js";
import { AddressGuard } from "../../src/webhooks/address-guard.js";
import { WebhookDispatcher } from "../../src/webhooks/dispatcher.js";
import { BACKENDS, POSTGRES_URL, uniqueSchema } from "../support/backends.js";
import { ADMIN_KEY, exited, start } from "../support/process.js";
import { startReceiver } from "../support/receiver.js";
import { waitFor } from "../support/wait.js";
import { storeOf } from "../../src/store/store.js";

const dir = mkdtempSync(join(tmpdir(), "runledger-webhooks-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

for (const backend of BACKENDS) {
  describe.skipIf(!backend.available)(`a server killed mid-delivery [${backend.name}]`, () => {
    it("delivers the webhook after it restarts, with the same webhook-id", async () => {
      const schema = uniqueSchema();
      const url = backend.name === "sqlite" ? `sqlite:${join(dir, `${schema}.db`)}` : `${POSTGRES_URL}?schema=${schema}`;
      const env = { DATABASE_URL: url, RUNLEDGER_ADMIN_KEY: ADMIN_KEY, RUNLEDGER_WEBHOOK_ALLOWLIST: "127.0.0.1", RUNLEDGER_WEBHOOK_TIMEOUT: "1s" };
      const receiver = await startReceiver();
      receiver.respond = () => "hang";
      const headers = { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" };
      let server = await start(["serve", "--port", "0"], env);
      try {
        const call = async (path: string, body: object, method = "POST") =>
          (await (await fetch(`${server.baseUrl}${path}`, { method, headers, body: JSON.stringify(body) })).json()) as { id: string };
        const agent = await call("/v1/agents", { name: "a" });
        const run = await call("/v1/runs", { agent_id: agent.id, callback_url: receiver.url });
        await call(`/v1/runs/${run.id}`, { status: "running" }, "PATCH");
        await call(`/v1/runs/${run.id}`, { status: "completed" }, "PATCH");
        await waitFor("the first attempt to be in flight", () => receiver.received.length === 1, 10_000);
        server.child.kill("SIGKILL");
        await exited(server.child);

        receiver.respond = () => ({ status: 200 });
        server = await start(["serve", "--port", "0"], env);
        await waitFor("the delivery after restart", () => receiver.received.length >= 2, 15_000);
        expect(receiver.received[1]!.headers["webhook-id"]).toBe(receiver.received[0]!.headers["webhook-id"]);
        expect(JSON.parse(receiver.received[1]!.body)).toMatchObject({ run_id: run.id, type: "run.completed" });
        const log = await waitFor("the delivered status", async () => {
          const deliveries = (await (await fetch(`${server.baseUrl}/v1/runs/${run.id}/callbacks`, { headers })).json()) as { status: string }[];
          return deliveries[0]?.status === "delivered" ? deliveries : undefined;
        }, 5_000);
        expect(log).toHaveLength(1);
      } finally {
        server.child.kill("SIGTERM");
        await exited(server.child);
        await receiver.close();
        if (backend.name === "postgres") {
          const ledger = await openLedger({ url, listen: false });
          await storeOf(ledger).driver.run(`DROP SCHEMA ${schema} CASCADE`);
          await ledger.close();
        }
      }
    }, 60_000);
  });
}

describe.skipIf(!BACKENDS[1]!.available)("two dispatchers on one PostgreSQL database", () => {
  it("never send the same attempt twice", async () => {
    const schema = uniqueSchema();
    const url = `${POSTGRES_URL}?schema=${schema}`;
    const first = await openLedger({ url, webhookAllowlist: ["127.0.0.1"] });
    const second = await openLedger({ url, webhookAllowlist: ["127.0.0.1"] });
    const receiver = await startReceiver();
    const options = { guard: new AddressGuard(["127.0.0.1"]), retryScheduleMs: [20], timeoutMs: 2_000, pollIntervalMs: 20, concurrency: 8 };
    const dispatchers = [new WebhookDispatcher(storeOf(first), first.bus, options), new WebhookDispatcher(storeOf(second), second.bus, options)];
    try {
      dispatchers.forEach((d) => d.start());
      const org = await first.organizations.createTrusted("o");
      const actor = { organization_id: org.id, role: "write" as const };
      const agent = await first.agents.create(actor, { name: "a" });
      const runs = 60;
      await Promise.all(
        Array.from({ length: runs }, async (_, i) => {
          const ledger = i % 2 === 0 ? first : second;
          const run = await ledger.runs.create(actor, { agent_id: agent.id, callback_url: receiver.url });
          await ledger.runs.update(actor, run.id, { status: "running" });
          await ledger.runs.update(actor, run.id, { status: "completed" });
        }),
      );
      await waitFor("every webhook", () => receiver.received.length >= runs, 15_000);
      const ids = receiver.received.map((r) => r.headers["webhook-id"]);
      expect(new Set(ids).size).toBe(runs);
      expect(ids).toHaveLength(runs);
      // A dispatcher records its attempt once the receiver has answered.
      const recorded = async () => Number((await storeOf(first).driver.get<{ n: number }>("SELECT count(*) AS n FROM webhook_attempts"))!.n);
      await waitFor("every attempt recorded", async () => (await recorded()) >= runs, 15_000);
      expect(await recorded()).toBe(runs);
    } finally {
      await Promise.all(dispatchers.map((d) => d.stop()));
      await receiver.close();
      await storeOf(first).driver.run(`DROP SCHEMA ${schema} CASCADE`);
      await first.close();
      await second.close();
    }
  }, 60_000);
});
