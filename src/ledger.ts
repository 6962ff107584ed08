/**
 * The library entry point: open a ledger on a database URL and get the services the HTTP
 * server uses, for agent code running in the same process.
 *
 *   const ledger = await openLedger({ url: "sqlite:./data/runledger.db" });
 *   const run = await ledger.runs.create(actor, { agent_id });
 */
import { TelemetryHub, type Telemetry } from "./core/telemetry.js";
import { EventBus } from "./events/bus.js";
import { PostgresListener } from "./events/postgres-listener.js";
import { AgentService } from "./services/agents.js";
import { AuditService } from "./services/audit.js";
import { InstanceService } from "./services/instance.js";
import { BulkService } from "./services/bulk.js";
import { ApiKeyService } from "./services/api-keys.js";
import { MessageService } from "./services/messages.js";
import { OrganizationService } from "./services/organizations.js";
import { RetentionService } from "./services/retention.js";
import { RunFeedService } from "./services/run-feeds.js";
import { RunService } from "./services/runs.js";
import { StepService } from "./services/steps.js";
import { RunStatsService } from "./services/stats.js";
import { WebhookService } from "./webhooks/service.js";
import { AddressGuard } from "./webhooks/address-guard.js";
import { bindStore, openStore } from "./store/store.js";
import { type BackgroundOptions, BackgroundWorkers } from "./workers/background.js";

export const DEFAULT_DATABASE_URL = "sqlite:./data/runledger.db";

export interface LedgerOptions {
  /** `sqlite:<path>`, `sqlite::memory:` or `postgres://…` (optionally `?schema=name`). */
  url?: string;
  /** PostgreSQL connections per process. */
  poolSize?: number;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  /**
   * On PostgreSQL, LISTEN for other processes' writes so live followers here see them
   * (default true). Without it, followers see only this process's writes live.
   */
  listen?: boolean;
  /** Where background faults (a dropped LISTEN connection) are reported. */
  onError?: (error: unknown) => void;
  /**
   * Hosts and CIDR ranges webhooks may reach although they are loopback, private or
   * link-local (RUNLEDGER_WEBHOOK_ALLOWLIST).
   */
  webhookAllowlist?: readonly string[];
}

export interface Ledger {
  readonly organizations: OrganizationService;
  readonly apiKeys: ApiKeyService;
  readonly agents: AgentService;
  readonly runs: RunService;
  readonly steps: StepService;
  readonly messages: MessageService;
  readonly feeds: RunFeedService;
  readonly webhooks: WebhookService;
  readonly stats: RunStatsService;
  readonly bulk: BulkService;
  readonly audit: AuditService;
  readonly retention: RetentionService;
  /** The installation as its operator sees it: readiness, stored runs by status. */
  readonly instance: InstanceService;
  /** Notices of new run events, for live followers in this process. */
  readonly bus: EventBus;
  /** On PostgreSQL, the connection that hears other processes' writes. */
  readonly listener: PostgresListener | undefined;
  /** Passes what the ledger reports (transitions, webhook attempts, …) to `sink` until the returned function is called. */
  reportTo(sink: Telemetry): () => void;
  /** The background workers over this ledger's database (reaper, webhook dispatcher, retention sweeper), not yet started. */
  workers(options: BackgroundOptions): BackgroundWorkers;
  close(): Promise<void>;
}

export async function openLedger(options: LedgerOptions = {}): Promise<Ledger> {
  const store = openStore(options.url ?? DEFAULT_DATABASE_URL, { poolSize: options.poolSize });
  try {
    if (options.migrate !== false) await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  store.onError = options.onError;
  const guard = new AddressGuard(options.webhookAllowlist);
  const bus = new EventBus();
  let listener: PostgresListener | undefined;
  if (store.dialect === "postgres" && options.listen !== false) {
    listener = new PostgresListener(bus, { connectionString: store.driver.connectionString!, onError: options.onError });
    try {
      await listener.start();
    } catch (error) {
      await store.close();
      throw error;
    }
  } else {
    // One process owns the database (or nobody listens): announce commits directly.
    store.onCommit = (notices) => bus.publish(notices);
  }
  const telemetry = new TelemetryHub();
  const ledger: Ledger = {
    bus,
    listener,
    feeds: new RunFeedService(store, bus),
    webhooks: new WebhookService(store),
    stats: new RunStatsService(store),
    bulk: new BulkService(store, telemetry),
    audit: new AuditService(store),
    retention: new RetentionService(store, telemetry),
    instance: new InstanceService(store),
    organizations: new OrganizationService(store),
    apiKeys: new ApiKeyService(store),
    agents: new AgentService(store),
    runs: new RunService(store, telemetry, guard),
    steps: new StepService(store),
    messages: new MessageService(store),
    reportTo: (sink) => telemetry.attach(sink),
    workers: (workerOptions) => new BackgroundWorkers(store, bus, guard, telemetry, workerOptions),
    async close() {
      await listener?.stop();
      await store.close();
    },
  };
  bindStore(ledger, store);
  return ledger;
}
