/**
 * The one seam between the shared SQL and a database driver. Statements are written once
 * with `?` placeholders; each backend binds them its own way. Parameters are plain values:
 * strings, numbers, booleans, null; JSON is passed as a serialized string.
 */
import type { StatsBucket } from "../core/model.js";

export type SqlParam = string | number | boolean | null | bigint;

export interface Executor {
  /** All rows of a query. */
  all<T = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  /**
   * All rows of a query as arrays of their column values, in the SELECT's order: for hot
   * reads that name their columns and read them by position, without an object per row.
   */
  values(sql: string, params?: readonly SqlParam[]): Promise<unknown[][]>;
  /** The first row, or undefined. */
  get<T = Record<string, unknown>>(sql: string, params?: readonly SqlParam[]): Promise<T | undefined>;
  /** Runs a statement; returns the number of rows it changed. */
  run(sql: string, params?: readonly SqlParam[]): Promise<number>;
  /**
   * A write whose result nobody reads (an INSERT or UPDATE of `table`). An executor may hold
   * it and send it together with later ones, always before its next statement that returns
   * something and before the commit: in a PostgreSQL transaction several such writes cost
   * one round trip. Its error surfaces there, and rolls the transaction back all the same.
   * Without this method, writes run at once.
   */
  write?(table: string, sql: string, params?: readonly SqlParam[]): Promise<void>;
}

/** A write whose result nobody reads, held to travel with others where the executor can (see Executor.write). */
export async function write(db: Executor, table: string, sql: string, params: readonly SqlParam[] = []): Promise<void> {
  if (db.write !== undefined) await db.write(table, sql, params);
  else await db.run(sql, params);
}

export type DialectName = "sqlite" | "postgres";

/** SQL fragments that differ between the two backends. */
export interface Dialect {
  readonly name: DialectName;
  /** A predicate: the JSON array in `column` holds at least one of `count` bound strings. */
  jsonArrayHasAny(column: string, count: number): string;
  /** A predicate: the JSON array in `column` holds every one of `count` bound strings. */
  jsonArrayHasAll(column: string, count: number): string;
  /** Locks the selected rows, skipping rows other transactions hold (no-op where writers are already serialized). */
  readonly skipLocked: string;
  /** Locks the selected rows until the transaction ends (no-op where writers are already serialized). */
  readonly forUpdate: string;
  /**
   * An expression: the timestamp in `column` plus `seconds` (an integer SQL expression),
   * comparable with a bound ISO 8601 timestamp. NULL seconds make the whole expression NULL.
   */
  plusSeconds(column: string, seconds: string): string;
  /** The ISO text (…Z) of the start of the minute, hour or day holding the timestamp in `column`. */
  timeBucket(column: string, unit: StatsBucket): string;
  /** A FROM item yielding one row per string in the JSON array `column`, as `alias.value`. */
  jsonArrayElements(column: string, alias: string): string;
}

export interface Driver extends Executor {
  readonly dialect: Dialect;
  /** For PostgreSQL, the server to open extra connections to (LISTEN); undefined for SQLite. */
  readonly connectionString?: string;
  /** Runs `fn` in one transaction: commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` on one connection held for its whole duration, outside any transaction, for
   * session state such as advisory locks. A session whose `fn` throws is not reused.
   */
  withSession<T>(fn: (session: Executor) => Promise<T>): Promise<T>;
  /** Applies pending migrations; safe when several processes start at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}
