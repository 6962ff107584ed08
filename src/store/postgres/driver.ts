import pg from "pg";
import { UnavailableError } from "../../core/errors.js";
import type { Driver, Executor, Migration, SqlParam } from "../executor.js";
import { postgresDialect } from "./dialect.js";
import { HeldWrites } from "./held-writes.js";
import { POSTGRES_MIGRATIONS } from "./migrations.js";

const INT8_OID = 20;
const TIMESTAMPTZ_OID = 1184;

/** Arbitrary constant that names runledger's migration lock among the database's advisory locks. */
const MIGRATION_LOCK = 727_274_001;

export interface PostgresOptions {
  connectionString: string;
  /** Schema to work in (created if missing); isolates test suites and tenants of one database. */
  schema?: string;
  poolSize?: number;
}

const timestampParser = pg.types.getTypeParser(TIMESTAMPTZ_OID) as (value: string) => Date;

const typeParsers = {
  getTypeParser(oid: number, format?: string) {
    // BIGINT counts and nanosecond durations fit in a double; ids are never integers here.
    if (oid === INT8_OID) return (value: string) => Number(value);
    if (oid === TIMESTAMPTZ_OID) return (value: string) => timestampParser(value).toISOString();
    return pg.types.getTypeParser(oid, format as "text");
  },
} as pg.CustomTypesConfig;

export class PostgresDriver implements Driver {
  readonly dialect = postgresDialect;
  private readonly pool: pg.Pool;
  private readonly schema: string;
  readonly connectionString: string;

  constructor(private readonly options: PostgresOptions, private readonly migrations: readonly Migration[] = POSTGRES_MIGRATIONS) {
    this.schema = options.schema ?? "public";
    this.connectionString = options.connectionString;
    if (!/^[a-z_][a-z0-9_]*$/.test(this.schema)) throw new Error(`invalid PostgreSQL schema name '${this.schema}'`);
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      types: typeParsers,
      options: `-c search_path=${this.schema}`,
      // A database that accepts connections but does not answer (or a pool whose every
      // connection is busy for this long) fails the request with 503 instead of hanging it.
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    // An idle client that loses its connection must not crash the process; the pool replaces it.
    this.pool.on("error", () => {});
  }

  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]> {
    return query<T>(this.pool, sql, params).then((r) => r.rows);
  }

  values(sql: string, params?: readonly SqlParam[]): Promise<unknown[][]> {
    return queryValues(this.pool, sql, params);
  }

  get<T>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined> {
    return query<T>(this.pool, sql, params).then((r) => r.rows[0]);
  }

  run(sql: string, params?: readonly SqlParam[]): Promise<number> {
    return query(this.pool, sql, params).then((r) => r.rowCount ?? 0);
  }

  async transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    const client = await this.checkout();
    const held = new HeldWrites((sql, params) => query(client, sql, params));
    const tx: Executor = {
      all: (sql, params) => held.flush().then(() => query(client, sql, params)).then((r) => r.rows as never[]),
      values: (sql, params) => held.flush().then(() => queryValues(client, sql, params)),
      get: (sql, params) => held.flush().then(() => query(client, sql, params)).then((r) => r.rows[0] as never),
      run: (sql, params) => held.flush().then(() => query(client, sql, params)).then((r) => r.rowCount ?? 0),
      write: (table, sql, params = []) => held.write(table, sql, params),
    };
    let broken = false;
    try {
      await client.query("BEGIN");
      const result = await fn(tx);
      await held.flush();
      await client.query("COMMIT");
      return result;
    } catch (error) {
      try {
        await client.query("ROLLBACK");
      } catch {
        broken = true;
      }
      throw unavailable(error);
    } finally {
      client.done(broken);
    }
  }

  /**
   * A pooled connection with an 'error' listener for as long as it is checked out. pg's
   * pool listens only on idle connections; a connection that drops while checked out (a
   * database restart ends every session, even one idle inside a transaction) emits 'error'
   * with nobody listening, and that would crash the process. The query in flight, if any,
   * fails on its own; a dropped connection is discarded when released.
   */
  private async checkout(): Promise<pg.PoolClient & { done(discard?: boolean): void }> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw unavailable(error);
    }
    let lost = false;
    const onError = () => {
      lost = true;
    };
    client.on("error", onError);
    return Object.assign(client, {
      done(discard = false) {
        client.removeListener("error", onError);
        client.release(discard || lost);
      },
    });
  }

  /** Holds one pooled connection while `fn` runs. */
  async withSession<T>(fn: (session: Executor) => Promise<T>): Promise<T> {
    // fn usually opens transactions too; with the only connection held they would wait forever.
    if (this.pool.options.max < 2) throw new Error("a PostgreSQL session held beside transactions needs a pool of at least 2 connections");
    const client = await this.checkout();
    const session: Executor = {
      all: (sql, params) => query(client, sql, params).then((r) => r.rows as never[]),
      values: (sql, params) => queryValues(client, sql, params),
      get: (sql, params) => query(client, sql, params).then((r) => r.rows[0] as never),
      run: (sql, params) => query(client, sql, params).then((r) => r.rowCount ?? 0),
    };
    try {
      const result = await fn(session);
      client.done();
      return result;
    } catch (error) {
      // The session may still hold what fn set up (an advisory lock, a setting): discard it.
      client.done(true);
      throw error;
    }
  }

  async migrate(): Promise<void> {
    const client = await this.checkout();
    try {
      await client.query("BEGIN");
      // Serialises concurrent migrators: the second waits here, then sees the first's rows.
      await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await client.query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)",
      );
      const applied = new Set((await client.query<{ version: number }>("SELECT version FROM schema_migrations")).rows.map((r) => r.version));
      for (const migration of this.migrations) {
        if (applied.has(migration.version)) continue;
        await client.query(migration.sql);
        await client.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, now())", [
          migration.version,
          migration.name,
        ]);
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.done();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Drops the driver's schema and everything in it (tests only). */
  async dropSchema(): Promise<void> {
    if (this.schema === "public") throw new Error("refusing to drop the public schema");
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
  }
}

const CONNECT_TIMEOUT_MS = 5_000;

/** Node socket errors that mean the database is unreachable, not that the statement is wrong. */
const NETWORK_ERRORS = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);
/** SQLSTATEs of a server going away or not taking connections yet: admin/crash shutdown, starting up, too many connections. */
const UNAVAILABLE_STATES = new Set(["57P01", "57P02", "57P03", "53300"]);

/**
 * The database is down or restarting, as opposed to refusing the statement: a socket error,
 * SQLSTATE class 08 (connection exception) or one of the states above, or one of pg's own
 * messages for a dropped connection or a connect timeout.
 */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (NETWORK_ERRORS.has(code) || UNAVAILABLE_STATES.has(code) || code.startsWith("08"))) return true;
  return /^Connection terminated|not queryable|timeout exceeded when trying to connect|Connection terminated due to connection timeout/.test(error.message);
}

/** A connection fault as UnavailableError (503); any other error unchanged. */
function unavailable(error: unknown): unknown {
  if (!isUnavailable(error) || error instanceof UnavailableError) return error;
  return new UnavailableError(`the database is unavailable (${(error as Error).message}); retry shortly`, { cause: error });
}

const PREPARED_LIMIT = 500;
const compiled = new Map<string, { name: string; text: string }>();

/** `?` → `$n`, once per distinct statement; the name makes pg prepare it once per connection. */
function compile(sql: string): { name: string | undefined; text: string } {
  const cached = compiled.get(sql);
  if (cached !== undefined) return cached;
  let n = 0;
  const text = sql.replace(/\?/g, () => `$${++n}`);
  // Filter combinations make many distinct list queries; only the first few hundred
  // statements are kept prepared, the rest are sent as plain queries.
  if (compiled.size >= PREPARED_LIMIT) return { name: undefined, text };
  const entry = { name: `rl_${compiled.size + 1}`, text };
  compiled.set(sql, entry);
  return entry;
}

async function query<T>(target: pg.Pool | pg.PoolClient, sql: string, params: readonly SqlParam[] | undefined) {
  const { name, text } = compile(sql);
  try {
    return await target.query<T & pg.QueryResultRow>({ name, text, values: params as unknown[] | undefined });
  } catch (error) {
    throw unavailable(error);
  }
}

async function queryValues(target: pg.Pool | pg.PoolClient, sql: string, params: readonly SqlParam[] | undefined): Promise<unknown[][]> {
  const { name, text } = compile(sql);
  try {
    return (await target.query<unknown[]>({ name, text, values: params as unknown[] | undefined, rowMode: "array" })).rows;
  } catch (error) {
    throw unavailable(error);
  }
}
