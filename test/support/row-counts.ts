/**
 * How many rows every table of a ledger's database holds, read straight from the database
 * in one statement: what a refused request must leave unchanged.
 */
import type { Ledger } from "../../src/ledger.js";
import { storeOf } from "../../src/store/store.js";

export type RowCounts = Record<string, number>;

const tableLists = new WeakMap<Ledger, Promise<string>>();

/** One `SELECT (SELECT count(*) FROM t) AS t, …` over every table, built once per ledger. */
function countStatement(ledger: Ledger): Promise<string> {
  let statement = tableLists.get(ledger);
  if (statement === undefined) {
    const store = storeOf(ledger);
    const list =
      store.dialect === "sqlite"
        ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name";
    statement = store.driver.all(list).then((rows) => {
      const names = (rows as { name: string }[]).map((r) => r.name);
      if (names.length < 5) throw new Error(`expected the ledger's tables, found ${names.join(", ")}`);
      return `SELECT ${names.map((n) => `(SELECT count(*) FROM "${n}") AS "${n}"`).join(", ")}`;
    });
    tableLists.set(ledger, statement);
  }
  return statement;
}

export async function rowCounts(ledger: Ledger): Promise<RowCounts> {
  const row = (await storeOf(ledger).driver.get(await countStatement(ledger))) as Record<string, number | string>;
  return Object.fromEntries(Object.entries(row).map(([table, n]) => [table, Number(n)]));
}
