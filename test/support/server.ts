/**
 * An HTTP server per backend for a test file, listening on a free loopback port, with the
 * superuser key and a helper that makes a fresh organization with keys of every role.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe } from "vitest";
import { buildServer, type ServerLimits } from "../../src/http/server.js";
import type { Ledger, LedgerOptions } from "../../src/ledger.js";
import { BACKENDS } from "./backends.js";

export interface HttpTenant {
  orgId: string;
  adminKey: string;
  writeKey: string;
  readKey: string;
  /** Registers an agent through the API. */
  agent(name?: string): Promise<string>;
}

export interface HttpWorld {
  app: FastifyInstance;
  ledger: Ledger;
  baseUrl: string;
  superKey: string;
  backend: string;
  /** `app.inject` with a bearer key. */
  call(key: string | undefined, options: InjectOptions): Promise<LightMyRequestResponse>;
  tenant(): Promise<HttpTenant>;
}

export interface ServerWorldOptions {
  ledger?: Omit<LedgerOptions, "url">;
  /** Run the server's background workers beside it, retrying webhooks on this schedule (the reaper's server limits are off). */
  webhookRetryScheduleMs?: readonly number[];
  /** The server's limits per API key (none but the defaults unless given). */
  limits?: ServerLimits;
}

export function forEachServer(title: string, body: (world: () => HttpWorld) => void, options: ServerWorldOptions = {}): void {
  for (const backend of BACKENDS) {
    describe.skipIf(!backend.available)(`${title} [${backend.name}]`, () => {
      let world: HttpWorld | undefined;
      let dispose: (() => Promise<void>) | undefined;
      beforeAll(async () => {
        const opened = await backend.open(options.ledger);
        const app = await buildServer({ ledger: opened.ledger, authCacheMs: 0, pingIntervalMs: 100, limits: options.limits });
        const schedule = options.webhookRetryScheduleMs;
        const workers =
          schedule === undefined
            ? undefined
            : opened.ledger.workers({
                reaper: { intervalMs: 1_000, defaults: { ttlS: null, maxDurationS: null, heartbeatTimeoutS: null } },
                webhooks: { retryScheduleMs: schedule, timeoutMs: 2_000 },
                retention: { intervalMs: 3_600_000, defaultGraceDays: 7 },
              });
        workers?.start();
        const boot = (await opened.ledger.apiKeys.bootstrap())!;
        await app.listen({ host: "127.0.0.1", port: 0 });
        const address = app.server.address();
        const port = typeof address === "object" && address !== null ? address.port : 0;
        dispose = async () => {
          // The tests are over: drop client sockets (undici keeps them for 4 s) instead of waiting.
          app.server.closeAllConnections();
          await workers?.stop();
          await app.close();
          await opened.dispose();
        };
        const call = (key: string | undefined, options: InjectOptions) =>
          app.inject({ ...options, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...options.headers } });
        world = {
          app,
          ledger: opened.ledger,
          baseUrl: `http://127.0.0.1:${port}`,
          superKey: boot.key.key,
          backend: backend.name,
          call,
          async tenant() {
            const org = (await call(boot.key.key, { method: "POST", url: "/v1/organizations", payload: { name: "tenant" } })).json();
            const key = async (role: string) =>
              (await call(boot.key.key, { method: "POST", url: "/v1/api-keys", payload: { organization_id: org.id, role } })).json().key as string;
            const [adminKey, writeKey, readKey] = [await key("admin"), await key("write"), await key("read")];
            return {
              orgId: org.id,
              adminKey,
              writeKey,
              readKey,
              async agent(name = "agent") {
                return (await call(writeKey, { method: "POST", url: "/v1/agents", payload: { name } })).json().id as string;
              },
            };
          },
        };
      });
      afterAll(async () => {
        await dispose?.();
      });
      body(() => {
        if (world === undefined) throw new Error("the server did not start");
        return world;
      });
    });
  }
}
