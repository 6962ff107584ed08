/**
 * PostgreSQL going away under a running server: requests get a 503 that says to retry
 * (never a 500 or a hang), a connection that drops inside a transaction fails only that
 * transaction (the process carries on), and everything works again once the database is
 * back. The database sits behind a TCP proxy the test cuts and restores; the shared
 * cluster itself is never restarted. PostgreSQL only: SQLite has no connection to lose.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { UnavailableError } from "../../src/core/errors.js";
import { buildServer } from "../../src/http/server.js";
import { openLedger, type Ledger } from "../../src/ledger.js";
import { storeOf } from "../../src/store/store.js";
import { BACKENDS, POSTGRES_URL, uniqueSchema } from "../support/backends.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { waitFor } from "../support/wait.js";

describe.skipIf(!BACKENDS[1]!.available)("PostgreSQL unavailable [postgres]", () => {
  const schema = uniqueSchema();
  let proxy: TcpProxy;
  let ledger: Ledger;
  let app: FastifyInstance;
  let key: string;
  const call = (method: "GET" | "POST" | "PATCH", url: string, payload?: object) =>
    app.inject({ method, url, payload, headers: { authorization: `Bearer ${key}` } });

  beforeAll(async () => {
    const target = new URL(POSTGRES_URL);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const url = new URL(POSTGRES_URL);
    url.host = `127.0.0.1:${proxy.port}`;
    url.searchParams.set("schema", schema);
    ledger = await openLedger({ url: url.toString(), onError: () => {} });
    app = await buildServer({ ledger, authCacheMs: 0 });
    key = (await ledger.apiKeys.bootstrap())!.key.key;
  });

  afterAll(async () => {
    await proxy.restore().catch(() => {});
    await app.close();
    await ledger.close();
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
    await proxy.close();
  });

  it("answers 503 with Retry-After while the database is unreachable, and serves again once it is back", async () => {
    const agent = (await call("POST", "/v1/agents", { name: "a" })).json<{ id: string }>();
    const run = (await call("POST", "/v1/runs", { agent_id: agent.id })).json<{ id: string }>();

    await proxy.cut();
    for (const [method, url, payload] of [
      ["GET", `/v1/runs/${run.id}`],
      ["GET", "/v1/runs/"],
      ["POST", "/v1/runs", { agent_id: agent.id }],
      ["PATCH", `/v1/runs/${run.id}`, { status: "running" }],
    ] as const) {
      const started = Date.now();
      const response = await call(method, url, payload);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(503);
      expect(response.json()).toMatchObject({ code: "UNAVAILABLE", detail: expect.stringMatching(/database is unavailable.*retry/) });
      expect(response.headers["retry-after"]).toBe("2");
      expect(Date.now() - started).toBeLessThan(6_000);
    }

    await proxy.restore();
    await waitFor("a read to succeed again", async () => (await call("GET", `/v1/runs/${run.id}`)).statusCode === 200, 10_000);
    expect((await call("PATCH", `/v1/runs/${run.id}`, { status: "running" })).statusCode).toBe(200);
    await waitFor("the LISTEN connection to come back", () => ledger.listener!.connected, 15_000);
  });

  it("fails a transaction whose connection drops with UnavailableError, and the process carries on", async () => {
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      const driver = storeOf(ledger).driver;
      const attempt = driver.transaction(async (tx) => {
        const row = await tx.get<{ pid: number }>("SELECT pg_backend_pid() AS pid");
        await admin.query("SELECT pg_terminate_backend($1)", [row!.pid]);
        // Idle inside the transaction while the server hangs up on it, as in a database restart.
        await waitFor("the backend to end", async () => (await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [row!.pid])).rowCount === 0);
        return tx.get("SELECT 1 AS ok");
      });
      await expect(attempt).rejects.toBeInstanceOf(UnavailableError);
      expect(await driver.get("SELECT 1 AS ok")).toEqual({ ok: 1 });
    } finally {
      await admin.end();
    }
  });
});
