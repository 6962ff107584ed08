/**
 * Runs the server until SIGTERM or SIGINT, then stops taking connections, lets in-flight
 * requests finish and closes the database.
 */
import type { FastifyInstance } from "fastify";
import type { ServerConfig } from "./config.js";
import { buildServer } from "./http/server.js";
import { openLedger } from "./ledger.js";

export async function serve(config: ServerConfig): Promise<FastifyInstance> {
  const ledger = await openLedger({
    url: config.databaseUrl,
    poolSize: config.poolSize,
    webhookAllowlist: config.webhooks.allowlist,
    onError: (error) => console.error("runledger:", error),
  });
  const app = await buildServer({ ledger, logger: { level: config.logLevel } as never, bodyLimit: config.bodyLimit, limits: config.limits });
  const boot = await ledger.apiKeys.bootstrap(config.adminKey);
  if (boot !== undefined) {
    app.log.info({ organization_id: boot.organization.id, api_key_id: boot.key.id }, "created the default organization and its superuser admin key");
    if (config.adminKey === undefined) {
      // Printed once, on the console, never logged as a field: the database keeps only its hash.
      process.stdout.write(`\nrunledger admin API key (shown once, store it now):\n\n  ${boot.key.key}\n\n`);
    }
  }
  const workers = ledger.workers({
    reaper: {
      intervalMs: config.reaper.intervalMs,
      defaults: config.reaper.defaults,
      onError: (error) => app.log.error({ err: error }, "liveness sweep failed"),
      onReaped: (run, reason) => app.log.info({ run_id: run.id, agent_id: run.agent_id, reason }, "reaped a run"),
    },
    webhooks: {
      retryScheduleMs: config.webhooks.retryScheduleMs,
      timeoutMs: config.webhooks.timeoutMs,
      concurrency: config.webhooks.concurrency,
      onError: (error) => app.log.error({ err: error }, "webhook dispatch failed"),
      onAttempt: (delivery, outcome, statusCode) =>
        app.log.info({ delivery_id: delivery.id, run_id: delivery.run_id, outcome, status_code: statusCode }, "webhook attempt"),
    },
    retention: {
      intervalMs: config.retention.intervalMs,
      defaultGraceDays: config.retention.defaultGraceDays,
      onError: (error) => app.log.error({ err: error }, "retention sweep failed"),
    },
  });
  app.addHook("onClose", async () => {
    await workers.stop();
    await ledger.close();
  });
  await app.listen({ host: config.host, port: config.port });
  workers.start();

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, "shutting down: finishing in-flight requests");
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  return app;
}
