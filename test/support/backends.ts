/**
 * The backends every conformance test runs on. SQLite always; PostgreSQL when a server
 * answers — and under CI=true a missing server fails the run instead of skipping it.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { openLedger, type Ledger, type LedgerOptions } from "../../src/ledger.js";
import { storeOf } from "../../src/store/store.js";

export const POSTGRES_URL = process.env.RUNLEDGER_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start";

async function probePostgres(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
}

const postgresProblem = await probePostgres();
if (postgresProblem !== undefined && process.env.CI === "true") {
  throw new Error(`PostgreSQL at ${POSTGRES_URL} is required in CI but did not answer (${postgresProblem}); start it with: ${START_POSTGRES}`);
}
if (postgresProblem !== undefined) {
  console.warn(`PostgreSQL tests skipped: no server at ${POSTGRES_URL} (${postgresProblem}); start one with: ${START_POSTGRES}`);
}

export interface Backend {
  name: "sqlite" | "postgres";
  available: boolean;
  /** A fresh, migrated, empty database for one test file. */
  open(options?: Omit<LedgerOptions, "url">): Promise<{ ledger: Ledger; url: string; dispose(): Promise<void> }>;
}

export function uniqueSchema(): string {
  return `t_${randomBytes(6).toString("hex")}`;
}

export const BACKENDS: Backend[] = [
  {
    name: "sqlite",
    available: true,
    async open(options = {}) {
      const url = "sqlite::memory:";
      const ledger = await openLedger({ ...options, url });
      return { ledger, url, dispose: () => ledger.close() };
    },
  },
  {
    name: "postgres",
    available: postgresProblem === undefined,
    async open(options = {}) {
      const schema = uniqueSchema();
      const url = `${POSTGRES_URL}?schema=${schema}`;
      const ledger = await openLedger({ ...options, url });
      return {
        ledger,
        url,
        async dispose() {
          await storeOf(ledger).driver.run(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await ledger.close();
        },
      };
    },
  },
];
