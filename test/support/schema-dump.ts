/**
 * A stable text description of the schema the migrations produce, per backend: tables with
 * their columns and every index. schema/<backend>.txt holds the committed copy; a test
 * fails when the migrations and the copy drift apart (`npm run schema:dump` rewrites it).
 */
import type { Store } from "../../src/store/store.js";

export async function dumpSchema(store: Store): Promise<string> {
  if (store.dialect === "sqlite") {
    const rows = await store.driver.all<{ type: string; name: string; sql: string }>(
      "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type DESC, name",
    );
    return `${rows.map((r) => `${r.sql.replace(/\s+/g, " ").trim()};`).join("\n")}\n`;
  }
  const columns = await store.driver.all<Record<string, string>>(
    `SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '') AS column_default, is_identity
     FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`,
  );
  const indexes = await store.driver.all<{ indexdef: string }>(
    "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY tablename, indexname",
  );
  const schema = (await store.driver.get<{ s: string }>("SELECT current_schema() AS s"))!.s;
  const lines = columns.map(
    (c) => `${c.table_name}.${c.column_name} ${c.data_type}${c.is_nullable === "NO" ? " NOT NULL" : ""}${c.column_default ? ` DEFAULT ${c.column_default}` : ""}${c.is_identity === "YES" ? " IDENTITY" : ""}`,
  );
  return `${[...lines, ...indexes.map((i) => `${i.indexdef.replaceAll(`${schema}.`, "")};`)].join("\n")}\n`;
}
