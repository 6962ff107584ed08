import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Driver, Executor, Migration, SqlParam } from "../executor.js";
import { sqliteDialect } from "./dialect.js";
import { SQLITE_MIGRATIONS } from "./migrations.js";

type Statement = Database.Statement<unknown[], unknown>;

const STATEMENT_CACHE_SIZE = 1_000;

/**
 * better-sqlite3 is synchronous and this process holds one connection, so a statement
 * outside a transaction runs at once. A transaction spans awaits, though, so while one is
 * open every other caller queues behind it: nobody reads another caller's uncommitted rows
 * or interleaves a statement into its transaction.
 */
export class SqliteDriver implements Driver {
  readonly dialect = sqliteDialect;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Statement>();
  private readonly columnNames = new WeakMap<Statement, string[]>();
  private queue: Promise<void> = Promise.resolve();
  private inTransaction = false;
  private readonly direct: Executor;

  constructor(filename: string, private readonly migrations: readonly Migration[] = SQLITE_MIGRATIONS) {
    if (filename !== ":memory:") mkdirSync(dirname(filename), { recursive: true });
    this.db = new Database(filename, { timeout: 10_000 });
    if (filename !== ":memory:") this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    this.direct = {
      all: (sql, params) => Promise.resolve(this.rows(sql, params) as never[]),
      get: (sql, params) => Promise.resolve(this.rows(sql, params, 1)[0] as never),
      run: (sql, params) => Promise.resolve(this.statement(sql).run(...bind(params)).changes),
    };
  }

  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    return this.inTransaction || this.waiting ? this.afterQueue(() => this.direct.all<T>(sql, params)) : this.direct.all<T>(sql, params);
  }

  get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined> {
    return this.inTransaction || this.waiting ? this.afterQueue(() => this.direct.get<T>(sql, params)) : this.direct.get<T>(sql, params);
  }

  run(sql: string, params?: readonly SqlParam[]): Promise<number> {
    return this.inTransaction || this.waiting ? this.afterQueue(() => this.direct.run(sql, params)) : this.direct.run(sql, params);
  }

  async transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    return this.afterQueue(async () => {
      this.inTransaction = true;
      this.statement("BEGIN IMMEDIATE").run();
      try {
        const result = await fn(this.direct);
        this.statement("COMMIT").run();
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.statement("ROLLBACK").run();
        throw error;
      } finally {
        this.inTransaction = false;
      }
    });
  }

  /** One process holds one connection, so every caller already shares a single session. */
  withSession<T>(fn: (session: Executor) => Promise<T>): Promise<T> {
    return fn(this);
  }

  async migrate(): Promise<void> {
    await this.afterQueue(async () => {
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
    });
  }

  async close(): Promise<void> {
    await this.afterQueue(async () => {
      this.statements.clear();
      this.db.close();
    });
  }

  private waiting = 0;

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

function bind(params: readonly SqlParam[] | undefined): unknown[] {
  if (params === undefined) return [];
  return params.map((p) => (typeof p === "boolean" ? (p ? 1 : 0) : p));
}
