import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Driver, Executor, Migration, SqlParam } from "../executor.js";
import { Checkpointer, type CheckpointOptions } from "./checkpointer.js";
import { sqliteDialect } from "./dialect.js";
import { SQLITE_MIGRATIONS } from "./migrations.js";

type Statement = Database.Statement<unknown[], unknown>;

const STATEMENT_CACHE_SIZE = 1_000;
const OPTIMIZE_EVERY_MS = 3 * 3_600_000;

/**
 * better-sqlite3 is synchronous and this process holds one connection, so a statement
 * outside a transaction runs at once. A transaction spans awaits, though, so while one is
 * open every other caller queues behind it: nobody reads another caller's uncommitted rows
 * or interleaves a statement into its transaction.
 *
 * Transactions commit in groups. The first one opens `BEGIN IMMEDIATE`; it and every
 * transaction that follows before the event loop's next check phase each run inside their
 * own SAVEPOINT, and one COMMIT ends them all. Each caller's promise settles only after that
 * COMMIT, so "resolved" still means "committed". A transaction that throws rolls back to its
 * savepoint and leaves the others in the group untouched. A statement outside a transaction
 * first commits any open group, so it never reads rows that are not yet committed. Under
 * concurrent writes this writes the pages that many transactions touch (the right edge of
 * every time-ordered index) once per group instead of once per transaction.
 *
 * A file database is checkpointed by a worker thread with its own connection, never by this
 * one: see checkpointer.ts.
 */
export class SqliteDriver implements Driver {
  readonly dialect = sqliteDialect;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Statement>();
  private readonly columnNames = new WeakMap<Statement, string[]>();
  private queue: Promise<void> = Promise.resolve();
  private inTransaction = false;
  private group: CommitGroup | undefined;
  private optimizer: NodeJS.Timeout | undefined;
  private readonly direct: Executor;
  private readonly checkpointer: Checkpointer | undefined;

  constructor(
    filename: string,
    private readonly migrations: readonly Migration[] = SQLITE_MIGRATIONS,
    options: { checkpoints?: CheckpointOptions | false } = {},
  ) {
    if (filename !== ":memory:") mkdirSync(dirname(filename), { recursive: true });
    this.db = new Database(filename, { timeout: 10_000 });
    if (filename !== ":memory:") this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    // Reads of a large file through the OS page cache without a read() per page: the join of
    // runs with run_metrics over a million runs takes 40% less time. 2 GiB is SQLite's limit.
    this.db.pragma("mmap_size = 2147418112");
    // ANALYZE on a bounded sample of each index, so the planner can tell a scan from a search.
    this.db.pragma("analysis_limit = 1000");
    if (filename !== ":memory:" && options.checkpoints !== false) {
      this.db.pragma("wal_autocheckpoint = 0");
      this.checkpointer = new Checkpointer(
        filename,
        {
          whileNoTransaction: (restart) =>
            void this.afterQueue(async () => {
              this.commitGroup();
              await restart();
            }),
          fallBack: () => {
            if (this.db.open) this.db.pragma("wal_autocheckpoint = 1000");
          },
        },
        options.checkpoints,
      );
    }
    this.direct = {
      all: (sql, params) => settle(() => this.rows(sql, params) as never[]),
      values: (sql, params) => settle(() => this.rowValues(sql, params)),
      get: (sql, params) => settle(() => this.rows(sql, params, 1)[0] as never),
      run: (sql, params) => settle(() => this.statement(sql).run(...bind(params)).changes),
    };
  }

  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    return this.outside(() => this.direct.all<T>(sql, params));
  }

  values(sql: string, params?: readonly SqlParam[]): Promise<unknown[][]> {
    return this.outside(() => this.direct.values(sql, params));
  }

  get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined> {
    return this.outside(() => this.direct.get<T>(sql, params));
  }

  run(sql: string, params?: readonly SqlParam[]): Promise<number> {
    return this.outside(() => this.direct.run(sql, params));
  }

  async transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    const { result, committed } = await this.afterQueue(() => this.inGroup(fn));
    await committed;
    return result;
  }

  /** One process holds one connection, so every caller already shares a single session. */
  withSession<T>(fn: (session: Executor) => Promise<T>): Promise<T> {
    return fn(this);
  }

  async migrate(): Promise<void> {
    await this.afterQueue(async () => {
      this.commitGroup();
      // BEGIN IMMEDIATE takes the write lock first, so a second process migrating the same
      // file waits here and then finds the migrations already applied.
      this.db.exec("BEGIN IMMEDIATE");
      try {
        this.db.exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
        );
        const applied = new Set(
          (this.db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map((r) => r.version),
        );
        for (const migration of this.migrations) {
          if (applied.has(migration.version)) continue;
          this.db.exec(migration.sql);
          this.db
            .prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)")
            .run(migration.version, migration.name, new Date().toISOString());
        }
        this.db.exec("COMMIT");
      } catch (error) {
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
        throw error;
      }
      this.optimize(0x10002);
    });
    // SQLite's advice for long-lived connections: optimize on open, then every few hours.
    this.optimizer ??= setInterval(() => void this.afterQueue(async () => this.optimize()), OPTIMIZE_EVERY_MS).unref();
  }

  /**
   * Refreshes the planner's statistics where they are missing or stale. It never waits for
   * another process's write lock (that would stall the event loop); busy or read-only, it
   * leaves them as they were until the next run.
   */
  private optimize(mask?: number): void {
    this.commitGroup();
    const timeout = this.db.pragma("busy_timeout", { simple: true }) as number;
    this.db.pragma("busy_timeout = 0");
    try {
      this.db.pragma(mask === undefined ? "optimize" : `optimize = ${mask}`);
    } catch {
      // Tried again at the next interval.
    } finally {
      this.db.pragma(`busy_timeout = ${timeout}`);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.optimizer);
    await this.checkpointer?.close();
    await this.afterQueue(async () => {
      this.commitGroup();
      this.statements.clear();
      this.db.close();
    });
  }

  private waiting = 0;

  /** A statement outside any transaction: after the queue if one is running, always after the open group commits. */
  private outside<T>(statement: () => Promise<T>): Promise<T> {
    const run = (): Promise<T> => {
      this.commitGroup();
      return statement();
    };
    return this.inTransaction || this.waiting ? this.afterQueue(run) : run();
  }

  /** Runs `fn` in its own savepoint of the open group (opening one if none is). */
  private async inGroup<T>(fn: (tx: Executor) => Promise<T>): Promise<{ result: T; committed: Promise<void> }> {
    const group = this.group ?? this.openGroup();
    this.inTransaction = true;
    this.statement("SAVEPOINT tx").run();
    try {
      const result = await fn(this.direct);
      this.statement("RELEASE tx").run();
      return { result, committed: group.committed };
    } catch (error) {
      if (this.db.inTransaction) {
        this.statement("ROLLBACK TO tx").run();
        this.statement("RELEASE tx").run();
      } else {
        // SQLite rolled the whole group back (an I/O error, a full disk): none of it committed.
        this.group = undefined;
        group.fail(error);
      }
      throw error;
    } finally {
      this.inTransaction = false;
      if (group.due) this.commitGroup();
    }
  }

  private openGroup(): CommitGroup {
    this.statement("BEGIN IMMEDIATE").run();
    const group = new CommitGroup();
    this.group = group;
    // Commit once this turn of the event loop has run every request it had ready; if a
    // transaction is still awaiting something then, the group commits when it ends.
    setImmediate(() => {
      if (this.group !== group) return;
      if (this.inTransaction) group.due = true;
      else this.commitGroup();
    });
    return group;
  }

  private commitGroup(): void {
    const group = this.group;
    if (group === undefined) return;
    this.group = undefined;
    try {
      this.statement("COMMIT").run();
      group.succeed();
    } catch (error) {
      if (this.db.inTransaction) this.statement("ROLLBACK").run();
      group.fail(error);
    }
  }

  private afterQueue<T>(task: () => Promise<T>): Promise<T> {
    this.waiting++;
    const result = this.queue.then(task);
    this.queue = result.then(
      () => { this.waiting--; },
      () => { this.waiting--; },
    );
    return result;
  }

  /**
   * Rows as objects keyed by column name (the last of two same-named columns wins, as in
   * better-sqlite3's own objects). They are read as arrays and named here: better-sqlite3
   * builds an object row about twice as slowly, which is most of the cost of a 100-run page.
   */
  private rows(sql: string, params: readonly SqlParam[] | undefined, limit?: 1): Record<string, unknown>[] {
    const statement = this.statement(sql);
    // better-sqlite3's own error for a statement that returns no data.
    if (!statement.reader) return statement.all(...bind(params)) as never;
    let names = this.columnNames.get(statement);
    if (names === undefined) {
      names = statement.columns().map((c) => c.name);
      this.columnNames.set(statement, names);
      statement.raw(true);
    }
    const arrays = limit === 1 ? [statement.get(...bind(params)) as unknown[] | undefined].filter((a) => a !== undefined) : (statement.all(...bind(params)) as unknown[][]);
    return arrays.map((values) => {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) row[names[i]!] = values[i];
      return row;
    });
  }

  private rowValues(sql: string, params: readonly SqlParam[] | undefined): unknown[][] {
    return this.statement(sql).raw(true).all(...bind(params)) as unknown[][];
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      // Filter combinations make many distinct list queries: keep the most recent ones.
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.delete(this.statements.keys().next().value!);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/** Transactions that share one COMMIT: each caller learns its outcome from `committed`. */
class CommitGroup {
  due = false;
  readonly committed: Promise<void>;
  succeed!: () => void;
  fail!: (error: unknown) => void;

  constructor() {
    this.committed = new Promise<void>((resolve, reject) => {
      this.succeed = resolve;
      this.fail = reject;
    });
    // Every member awaits `committed`; this only keeps a failure nobody awaits yet from being reported as unhandled.
    this.committed.catch(() => {});
  }
}

/** The result of a synchronous call as a promise: an error it throws becomes a rejection, as with any other driver. */
function settle<T>(call: () => T): Promise<T> {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error);
  }
}

function bind(params: readonly SqlParam[] | undefined): unknown[] {
  if (params === undefined) return [];
  return params.map((p) => (typeof p === "boolean" ? (p ? 1 : 0) : p));
}
