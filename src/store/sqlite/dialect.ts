import type { Dialect } from "../executor.js";

const placeholders = (count: number) => Array.from({ length: count }, () => "?").join(", ");

export const sqliteDialect: Dialect = {
  name: "sqlite",
  jsonArrayHasAny: (column, count) => `EXISTS (SELECT 1 FROM json_each(${column}) WHERE json_each.value IN (${placeholders(count)}))`,
  jsonArrayHasAll: (column, count) =>
    `(SELECT count(DISTINCT json_each.value) FROM json_each(${column}) WHERE json_each.value IN (${placeholders(count)})) = ${count}`,
  forUpdate: "",
};
