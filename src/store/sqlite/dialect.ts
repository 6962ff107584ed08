import type { Dialect } from "../executor.js";

const placeholders = (count: number) => Array.from({ length: count }, () => "?").join(", ");

export const sqliteDialect: Dialect = {
  name: "sqlite",
  jsonArrayHasAny: (column, count) => `EXISTS (SELECT 1 FROM json_each(${column}) WHERE json_each.value IN (${placeholders(count)}))`,
  jsonArrayHasAll: (column, count) =>
    `(SELECT count(DISTINCT json_each.value) FROM json_each(${column}) WHERE json_each.value IN (${placeholders(count)})) = ${count}`,
  skipLocked: "",
  forUpdate: "",
  // strftime yields the same ISO text the services write, so the comparison stays exact to the ms.
  timeBucket: (column, unit) =>
    `strftime('${{ minute: "%Y-%m-%dT%H:%M:00.000Z", hour: "%Y-%m-%dT%H:00:00.000Z", day: "%Y-%m-%dT00:00:00.000Z" }[unit]}', ${column})`,
  jsonArrayElements: (column, alias) => `json_each(${column}) AS ${alias}`,
  plusSeconds: (column, seconds) => `strftime('%Y-%m-%dT%H:%M:%fZ', ${column}, ${seconds} || ' seconds')`,
};
