import type { Dialect } from "../executor.js";

const placeholders = (count: number) => Array.from({ length: count }, () => "?").join(", ");

export const postgresDialect: Dialect = {
  name: "postgres",
  jsonArrayHasAny: (column, count) => `jsonb_exists_any(${column}, ARRAY[${placeholders(count)}]::text[])`,
  jsonArrayHasAll: (column, count) => `jsonb_exists_all(${column}, ARRAY[${placeholders(count)}]::text[])`,
  skipLocked: " FOR UPDATE SKIP LOCKED",
  forUpdate: " FOR UPDATE",
  timeBucket: (column, unit) =>
    `to_char(date_trunc('${unit}', ${column} AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
  jsonArrayElements: (column, alias) => `jsonb_array_elements_text(${column}) AS ${alias}(value)`,
  plusSeconds: (column, seconds) => `(${column} + make_interval(secs => ${seconds}))`,
};
