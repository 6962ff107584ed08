/** Conversions between domain values and the plain values both drivers bind and return. */
import type { SqlParam } from "./executor.js";

/** Objects and arrays are stored as JSON text (SQLite) or JSONB (PostgreSQL casts the text). */
export function param(value: unknown): SqlParam {
  if (value === undefined || value === null) return null;
  if (typeof value === "object") return JSON.stringify(value);
  return value as SqlParam;
}

/** SQLite hands JSON back as text; PostgreSQL has parsed it already. */
export function json<T>(value: unknown): T {
  return (typeof value === "string" ? JSON.parse(value) : value) as T;
}

export function jsonOrNull<T>(value: unknown): T | null {
  return value === null || value === undefined ? null : json<T>(value);
}

/** SQLite has no booleans: 0/1 come back. */
export function bool(value: unknown): boolean {
  return value === true || value === 1;
}

const PLACEHOLDERS: string[] = [];

/** `?, ?, …` for `count` values; the short lists every write asks for are built once. */
export function placeholders(count: number): string {
  if (count > 64) return Array.from({ length: count }, () => "?").join(", ");
  return (PLACEHOLDERS[count] ??= Array.from({ length: count }, () => "?").join(", "));
}

/** `a = ?, b = ?` and the bound values, for the columns present in `set`. Column names come from code, never from input. */
export function setClause(set: Record<string, unknown>): { sql: string; params: SqlParam[] } {
  const columns = Object.keys(set).filter((k) => set[k] !== undefined);
  return {
    sql: columns.map((c) => `${c} = ?`).join(", "),
    params: columns.map((c) => param(set[c])),
  };
}
