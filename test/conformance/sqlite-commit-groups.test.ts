/**
 * The SQLite driver commits concurrent transactions in groups. What callers rely on: a
 * transaction that resolved is committed (another connection sees it), one that threw left
 * nothing behind, and neither outcome leaks into the other transactions of its group.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteDriver } from "../../src/store/sqlite/driver.js";

describe("SQLite commit groups", () => {
  const dir = mkdtempSync(join(tmpdir(), "runledger-groups-"));
  const file = join(dir, "groups.db");
  let writer: SqliteDriver;
  let observer: SqliteDriver;

  beforeAll(async () => {
    writer = new SqliteDriver(file, []);
    observer = new SqliteDriver(file, []);
    await writer.run("CREATE TABLE items (name TEXT PRIMARY KEY, n INTEGER NOT NULL)");
  });

  afterAll(async () => {
    await writer.close();
    await observer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function committedNames(): Promise<string[]> {
    const rows = await observer.all<{ name: string }>("SELECT name FROM items ORDER BY name");
    return rows.map((r) => r.name);
  }

  it("resolves each transaction only once another connection can read what it wrote", async () => {
    const names = Array.from({ length: 40 }, (_, i) => `visible-${String(i).padStart(2, "0")}`);
    const seenAtResolve = await Promise.all(
      names.map(async (name) => {
        await writer.transaction(async (tx) => {
          await tx.run("INSERT INTO items (name, n) VALUES (?, 1)", [name]);
          await tx.run("UPDATE items SET n = n + 1 WHERE name = ?", [name]);
        });
        return (await observer.get<{ n: number }>("SELECT n FROM items WHERE name = ?", [name]))?.n;
      }),
    );
    expect(seenAtResolve).toEqual(names.map(() => 2));
  });

  it("rolls back only the transaction that threw, whatever else shares its commit", async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        writer.transaction(async (tx) => {
          await tx.run("INSERT INTO items (name, n) VALUES (?, ?)", [`mixed-${String(i).padStart(2, "0")}`, i]);
          if (i % 3 === 1) throw new Error(`transaction ${i} gives up`);
          // A constraint failure caught inside the transaction does not end it either.
          if (i % 3 === 2) await tx.run("INSERT INTO items (name, n) VALUES ('visible-00', 0)").catch(() => 0);
          return i;
        }),
      ),
    );
    const kept = outcomes.flatMap((o, i) => (o.status === "fulfilled" ? [`mixed-${String(i).padStart(2, "0")}`] : []));
    expect(outcomes.filter((o) => o.status === "rejected").map((o) => (o as PromiseRejectedResult).reason.message)).toEqual(
      Array.from({ length: 10 }, (_, k) => `transaction ${3 * k + 1} gives up`),
    );
    expect((await committedNames()).filter((n) => n.startsWith("mixed-"))).toEqual(kept);
    expect(kept).toHaveLength(20);
  });

  it("reads outside a transaction see every transaction that came before them", async () => {
    const pending = writer.transaction((tx) => tx.run("INSERT INTO items (name, n) VALUES ('read-after', 7)"));
    const read = writer.get<{ n: number }>("SELECT n FROM items WHERE name = 'read-after'");
    await pending;
    expect((await read)?.n).toBe(7);
    expect(await observer.get<{ n: number }>("SELECT n FROM items WHERE name = 'read-after'")).toEqual({ n: 7 });
  });
});
