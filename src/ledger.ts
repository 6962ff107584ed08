/**
 * The library entry point: open a ledger on a database URL and get the services the HTTP
 * server uses, for agent code running in the same process.
 *
 *   const ledger = await openLedger({ url: "sqlite:./data/runledger.db" });
 *   const run = await ledger.runs.create(actor, { agent_id });
 */
import { AgentService } from "./services/agents.js";
import { ApiKeyService } from "./services/api-keys.js";
import { MessageService } from "./services/messages.js";
import { OrganizationService } from "./services/organizations.js";
import { RunService } from "./services/runs.js";
import { StepService } from "./services/steps.js";
import { openStore, type Store } from "./store/store.js";

export const DEFAULT_DATABASE_URL = "sqlite:./data/runledger.db";

export interface LedgerOptions {
  /** `sqlite:<path>`, `sqlite::memory:` or `postgres://…` (optionally `?schema=name`). */
  url?: string;
  /** PostgreSQL connections per process. */
  poolSize?: number;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
}

export interface Ledger {
  readonly store: Store;
  readonly organizations: OrganizationService;
  readonly apiKeys: ApiKeyService;
  readonly agents: AgentService;
  readonly runs: RunService;
  readonly steps: StepService;
  readonly messages: MessageService;
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
  return {
    store,
    organizations: new OrganizationService(store),
    apiKeys: new ApiKeyService(store),
    agents: new AgentService(store),
    runs: new RunService(store),
    steps: new StepService(store),
    messages: new MessageService(store),
    close: () => store.close(),
  };
}
