/**
 * The SQLite driver's WAL checkpoints run on a worker thread with its own connection (see
 * src/store/sqlite/checkpointer.ts). What callers rely on: what they commit reaches the
 * database file without their connection checkpointing, and the WAL stays bounded while
 * writes never pause.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteDriver } from "../../src/store/sqlite/driver.js";

const PAGE = 4096;

describe("SQLite checkpoints off the event loop", () => {
  const dirs: string[] = [];
  const drivers: SqliteDriver[] = [];

  afterEach(async () => {
    for (const driver of drivers.splice(0)) await driver.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function open(options: { intervalMs: number; restartFrames: number }): { driver: SqliteDriver; file: string } {
    const dir = mkdtempSync(join(tmpdir(), "runledger-checkpoints-"));
    dirs.push(dir);
    const file = join(dir, "checkpoints.db");
    const driver = new SqliteDriver(file, [], { checkpoints: options });
    drivers.push(driver);
    return { driver, file };
  }

  /** Frames the WAL file has room for: its high-water mark, since SQLite reuses the file from the start after a restart. */
  function walFrames(file: string): number {
    return Math.floor(Math.max(0, statSync(`${file}-wal`).size - 32) / (PAGE + 24));
  }

  it("copies committed pages into the database file while the writer's own connection never checkpoints", async () => {
    const { driver, file } = open({ intervalMs: 20, restartFrames: 1_000_000 });
    await driver.run("CREATE TABLE items (body TEXT NOT NULL)");
    const before = statSync(file).size;
    for (let i = 0; i < 50; i++) await driver.transaction((tx) => tx.run("INSERT INTO items (body) VALUES (?)", ["x".repeat(2 * PAGE)]));
    // The writer's connection has automatic checkpoints off: only the worker moves pages to the file.
    await expect.poll(() => statSync(file).size, { timeout: 10_000 }).toBeGreaterThan(before + 50 * 2 * PAGE);
    expect((await driver.get<{ n: number }>("SELECT count(*) AS n FROM items"))?.n).toBe(50);
  });

  it("keeps the WAL bounded while writes never pause, and loses no transaction", async () => {
    const restartFrames = 200;
    const { driver, file } = open({ intervalMs: 10, restartFrames });
    await driver.run("CREATE TABLE items (n INTEGER NOT NULL, body TEXT NOT NULL)");
    const body = "y".repeat(PAGE);
    // The worker thread takes a moment to start: wait until it has copied pages once.
    const before = statSync(file).size;
    for (let i = 0; i < 20; i++) await driver.transaction((tx) => tx.run("INSERT INTO items (n, body) VALUES (?, ?)", [-1 - i, body]));
    await expect.poll(() => statSync(file).size, { timeout: 10_000 }).toBeGreaterThan(before);
    let largest = 0;
    let written = 0;
    // Fifty writers at a time, each starting again as soon as it commits, for two seconds and
    // at least 6,000 transactions: the WAL never sits still.
    const until = Date.now() + 2_000;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (written < 6_000 || Date.now() < until) {
          const n = written++;
          await driver.transaction((tx) => tx.run("INSERT INTO items (n, body) VALUES (?, ?)", [n, body]));
          largest = Math.max(largest, walFrames(file));
        }
      }),
    );
    // Each transaction writes a page and more, so without restarts the WAL would hold at least
    // one frame per transaction. With them it starts over about every `restartFrames`, and
    // what it reaches beyond that is what was written while the worker waited for a CPU.
    expect(largest).toBeLessThan(written / 3);
    expect((await driver.get<{ n: number }>("SELECT count(DISTINCT n) AS n FROM items WHERE n >= 0"))?.n).toBe(written);
  });
});
