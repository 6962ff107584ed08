import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { openLedger } from "../../src/ledger.js";
import { POSTGRES_MIGRATIONS } from "../../src/store/postgres/migrations.js";
import { SQLITE_MIGRATIONS } from "../../src/store/sqlite/migrations.js";
import { BACKENDS, POSTGRES_URL, uniqueSchema } from "../support/backends.js";
import { storeOf } from "../../src/store/store.js";

const run = promisify(execFile);
const child = join(import.meta.dirname, "../support/migrate-child.ts");
const tsx = join(import.meta.dirname, "../../node_modules/.bin/tsx");

/** Several processes open the same empty database at once; each migration must land exactly once. */
async function migrateConcurrently(url: string, processes: number): Promise<void> {
  await Promise.all(Array.from({ length: processes }, () => run(tsx, [child, url], { timeout: 60_000 })));
}

describe("migrations", () => {
  const dir = mkdtempSync(join(tmpdir(), "runledger-migrate-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("per dialect are numbered 1, 2, 3… with no gaps, and both dialects have the same versions", () => {
    for (const list of [SQLITE_MIGRATIONS, POSTGRES_MIGRATIONS]) expect(list.map((m) => m.version)).toEqual(list.map((_, i) => i + 1));
    expect(SQLITE_MIGRATIONS.map((m) => m.name)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.name));
  });

  it("four processes migrating one SQLite file at once leave one intact schema", async () => {
    const url = `sqlite:${join(dir, "race.db")}`;
    await migrateConcurrently(url, 4);
    const ledger = await openLedger({ url });
    const rows = await storeOf(ledger).driver.all<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
    expect(rows.map((r) => Number(r.version))).toEqual(SQLITE_MIGRATIONS.map((m) => m.version));
    const org = await ledger.organizations.createTrusted("after the race");
    expect(org.id).toMatch(/^org-/);
    await ledger.close();
  });

  it.skipIf(!BACKENDS[1]!.available)("four processes migrating one PostgreSQL schema at once leave one intact schema", async () => {
    const schema = uniqueSchema();
    const url = `${POSTGRES_URL}?schema=${schema}`;
    await migrateConcurrently(url, 4);
    const ledger = await openLedger({ url });
    try {
      const rows = await storeOf(ledger).driver.all<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
      expect(rows.map((r) => Number(r.version))).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
      expect((await ledger.organizations.createTrusted("after the race")).id).toMatch(/^org-/);
    } finally {
      await storeOf(ledger).driver.run(`DROP SCHEMA ${schema} CASCADE`);
      await ledger.close();
    }
  });
});

for (const backend of BACKENDS) {
  describe.skipIf(!backend.available)(`upgrading to run_metrics.status [${backend.name}]`, () => {
    it("copies every run's status into its metrics row, so statistics by status count existing runs", async () => {
      const dir = mkdtempSync(join(tmpdir(), "runledger-upgrade-"));
      const schema = uniqueSchema();
      const url = backend.name === "sqlite" ? `sqlite:${join(dir, "upgrade.db")}` : `${POSTGRES_URL}?schema=${schema}`;
      let ledger = await openLedger({ url, listen: false });
      try {
        const org = await ledger.organizations.createTrusted("before the upgrade");
        const actor = { organization_id: org.id, role: "write" as const };
        const agent = await ledger.agents.create(actor, { name: "a" });
        for (const end of ["created", "running", "completed", "completed", "failed", "cancelled"] as const) {
          const run = await ledger.runs.create(actor, { agent_id: agent.id });
          if (end !== "created" && end !== "cancelled") await ledger.runs.update(actor, run.id, { status: "running" });
          if (end === "completed" || end === "failed") await ledger.runs.update(actor, run.id, { status: end });
          if (end === "cancelled") await ledger.runs.cancel(actor, run.id);
        }
        // Back to the schema of version 5, with the rows it had.
        const driver = storeOf(ledger).driver;
        for (const statement of [
          "DROP INDEX runs_org_status_duration",
          "DROP INDEX runs_org_status_ttft",
          "ALTER TABLE run_metrics DROP COLUMN status",
          "DELETE FROM schema_migrations WHERE version = 6",
        ]) await driver.run(statement);
        await ledger.close();

        ledger = await openLedger({ url, listen: false });
        const copied = await storeOf(ledger).driver.all<{ id: string; metrics: string; run: string }>(
          "SELECT m.id, m.status AS metrics, r.status AS run FROM run_metrics m JOIN runs r ON r.id = m.id ORDER BY m.id",
        );
        expect(copied.map((row) => row.metrics)).toEqual(copied.map((row) => row.run));
        const byStatus = await ledger.stats.stats(actor, { group_by: "status" });
        expect(Object.fromEntries(byStatus.groups.map((g) => [g.group, g.runs]))).toEqual({ cancelled: 1, completed: 2, created: 1, failed: 1, running: 1 });
      } finally {
        if (backend.name === "postgres") await storeOf(ledger).driver.run(`DROP SCHEMA ${schema} CASCADE`);
        await ledger.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
