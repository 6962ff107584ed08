import type { Dialect } from "../executor.js";

const placeholders = (count: number) => Array.from({ length: count }, () => "?").join(", ");

export const postgresDialect: Dialect = {
  name: "postgres",
  jsonArrayHasAny: (column, count) => `jsonb_exists_any(${column}, ARRAY[${placeholders(count)}]::text[])`,
  jsonArrayHasAll: (column, count) => `jsonb_exists_all(${column}, ARRAY[${placeholders(count)}]::text[])`,
  skipLocked: " FOR UPDATE SKIP LOCKED",
  forUpdate: " FOR UPDATE",
  plusSeconds: (column, seconds) => `(${column} + make_interval(secs => ${seconds}))`,
};
