/**
 * The store contract: repositories over one database, and transactions that group writes.
 * Two backends implement it — SQLite (embedded default) and PostgreSQL — behind the same
 * SQL; `openStore` picks one from a URL. All of runledger's SQL lives under this folder.
 *
 * After each commit, the runs whose event logs grew are announced: to `onCommit`, and on
 * PostgreSQL to every LISTENing process (postgres/notifier.ts).
 *
 * What `transaction()` means differs in one way a reader should know. On PostgreSQL each
 * transaction is its own, on a pooled connection. On SQLite (one connection per process)
 * transactions commit in groups: those that start in the same turn of the event loop each
 * run in a SAVEPOINT inside one `BEGIN IMMEDIATE`, one after another, and one COMMIT ends
 * them all. A transaction that throws rolls back to its savepoint alone, and no caller's
 * promise resolves before the COMMIT, so "resolved" still means "committed"; a transaction
 * that awaits something slow holds up the ones queued behind it.
 * Details in sqlite/driver.ts.
 */
import { resolve } from "node:path";
import type { RunNotice } from "../core/run-notice.js";
import type { DialectName, Driver } from "./executor.js";
import { type JobLockResult, type JobName, withJobLock } from "./job-lock.js";
import { PostgresDriver } from "./postgres/driver.js";
import { PostgresNotifier } from "./postgres/notifier.js";
import { Repos } from "./repos.js";
import { SqliteDriver } from "./sqlite/driver.js";

export class Store {
  /** Repositories outside any transaction, for reads. */
  readonly read: Repos;
  /** On PostgreSQL, announces each commit's notices to every LISTENing process. */
  private readonly notifier: PostgresNotifier | undefined;

  constructor(readonly driver: Driver) {
    this.read = new Repos(driver, driver.dialect);
    this.notifier = driver.dialect.name === "postgres" ? new PostgresNotifier(driver, (error) => this.onError?.(error)) : undefined;
  }

  get dialect(): DialectName {
    return this.driver.dialect.name;
  }

  /** Called after each commit with the runs whose event logs grew in it. */
  onCommit: ((notices: readonly RunNotice[]) => void) | undefined;

  /** Hears faults of the store's own background work (a notice PostgreSQL did not take). */
  onError: ((error: unknown) => void) | undefined;

  /** Runs `fn` in one transaction: every write in it lands, or none does. */
  async transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
    let repos: Repos | undefined;
    const result = await this.driver.transaction((executor) => {
      repos = new Repos(executor, this.driver.dialect);
      return fn(repos);
    });
    if (repos !== undefined && repos.notices.length > 0) {
      this.notifier?.send(repos.notices);
      this.onCommit?.(repos.notices);
    }
    return result;
  }

  /** Resolves when the database answers a query (readiness). */
  async ping(): Promise<void> {
    await this.driver.get("SELECT 1 AS ok");
  }

  /** Runs a singleton background job unless another process is running it (see job-lock.ts). */
  withJobLock<T>(name: JobName, job: () => Promise<T>): Promise<JobLockResult<T>> {
    return withJobLock(this.driver, name, job);
  }

  migrate(): Promise<void> {
    return this.driver.migrate();
  }

  async close(): Promise<void> {
    await this.notifier?.drain();
    await this.driver.close();
  }
}

const owners = new WeakMap<object, Store>();

/** Records that `owner` (a ledger) works on `store`; see storeOf. */
export function bindStore(owner: object, store: Store): void {
  owners.set(owner, store);
}

/**
 * The store beneath a ledger, for tests and tools (benchmarks, the schema dump) that look at
 * the database directly. runledger's own code reaches the database only through services.
 */
export function storeOf(owner: object): Store {
  const store = owners.get(owner);
  if (store === undefined) throw new Error("not a ledger opened by openLedger");
  return store;
}

/**
 * Opens a store on a URL without migrating it:
 * - `sqlite:./data/runledger.db`, `sqlite:///abs/path.db`, `sqlite::memory:`
 * - `postgres://user@host:5432/db` (or `postgresql://`), with an optional `?schema=name`
 */
export function openStore(url: string, options: { poolSize?: number } = {}): Store {
  if (url.startsWith("sqlite:")) {
    let path = url.slice("sqlite:".length);
    if (path.startsWith("//")) path = path.slice(2);
    if (path === "" ) throw new Error(`sqlite URL '${url}' names no file; use sqlite:./data/runledger.db or sqlite::memory:`);
    return new Store(new SqliteDriver(path === ":memory:" ? ":memory:" : resolve(path)));
  }
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    const parsed = new URL(url);
    const schema = parsed.searchParams.get("schema") ?? undefined;
    parsed.searchParams.delete("schema");
    return new Store(new PostgresDriver({ connectionString: parsed.toString(), schema, poolSize: options.poolSize }));
  }
  throw new Error(`unsupported database URL '${url}': expected sqlite:<path> or postgres://…`);
}
