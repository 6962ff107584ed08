import { expect, it } from "vitest";
import { RetentionSweeper } from "../../src/workers/retention-sweeper.js";
import { forEachBackend, type World } from "../support/fixtures.js";
import { storeOf } from "../../src/store/store.js";

const DAY = 86_400_000;

async function orphanCount(world: World): Promise<number> {
  let total = 0;
  for (const [table, column] of [["run_metrics", "id"], ["steps", "run_id"], ["messages", "run_id"], ["run_events", "run_id"], ["webhook_deliveries", "run_id"]]) {
    const row = await storeOf(world.ledger).driver.get<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE ${column} NOT IN (SELECT id FROM runs)`);
    total += Number(row!.n);
  }
  return total;
}

forEachBackend("retention", (world) => {
  it("deletes ended runs past the policy (per status), purges soft-deleted runs after the grace, in batches, leaving no orphans", async () => {
    const ledger = world().ledger;
    const t = await world().tenant();
    const other = await world().tenant();
    const agent = await t.agent();
    const otherAgent = await other.agent();
    const now = new Date("2030-06-01T00:00:00.000Z");
    const ends = ["completed", "failed", "cancelled", "running"] as const;
    const made: { id: string; end: (typeof ends)[number]; ageDays: number }[] = [];
    for (let i = 0; i < 1_200; i++) {
      const end = ends[i % 4]!;
      const run = await ledger.runs.create(t.writer, { agent_id: agent.id, callback_url: "https://example.com/hook" });
      await ledger.runs.update(t.writer, run.id, { status: "running" });
      await ledger.steps.record(t.writer, run.id, { prompt_tokens: 1 });
      if (end === "completed") await ledger.runs.update(t.writer, run.id, { status: "completed" });
      if (end === "failed") await ledger.runs.update(t.writer, run.id, { status: "failed" });
      if (end === "cancelled") await ledger.runs.cancel(t.writer, run.id);
      const ageDays = [5, 20, 40][i % 3]!;
      await storeOf(ledger).driver.run("UPDATE runs SET completed_at = ? WHERE id = ? AND completed_at IS NOT NULL", [
        new Date(now.getTime() - ageDays * DAY).toISOString(),
        run.id,
      ]);
      made.push({ id: run.id, end, ageDays });
    }
    const keep = await ledger.runs.create(other.writer, { agent_id: otherAgent.id });
    await ledger.runs.update(other.writer, keep.id, { status: "running" });
    await ledger.runs.update(other.writer, keep.id, { status: "completed" });
    await storeOf(ledger).driver.run("UPDATE runs SET completed_at = ? WHERE id = ?", [new Date(now.getTime() - 400 * DAY).toISOString(), keep.id]);

    await ledger.retention.set(t.admin, { terminal_days: 30, status_days: { failed: 10 }, soft_deleted_grace_days: 3 });
    const softDeleted = made.find((m) => m.end === "running")!;
    await ledger.runs.softDelete(t.writer, softDeleted.id);
    // Soft delete cancelled it just now; age both clocks so only the grace period applies.
    await storeOf(ledger).driver.run("UPDATE runs SET deleted_at = ?, completed_at = ? WHERE id = ?", [
      new Date(now.getTime() - 4 * DAY).toISOString(),
      new Date(now.getTime() - 4 * DAY).toISOString(),
      softDeleted.id,
    ]);

    const sweeper = new RetentionSweeper(storeOf(ledger), { intervalMs: 60_000, defaultGraceDays: 7, batchSize: 100 });
    const progress: number[] = [];
    const counts = await sweeper.sweep(now, (c) => progress.push(c.expired + c.purged));
    const expected = made.filter((m) => m !== softDeleted && ((m.end === "failed" && m.ageDays > 10) || (m.end !== "running" && m.ageDays > 30)));
    expect(counts).toEqual({ expired: expected.length, purged: 1 });
    expect(progress.length).toBeGreaterThan(2);
    const remaining = new Set((await storeOf(ledger).driver.all<{ id: string }>("SELECT id FROM runs")).map((r) => r.id));
    for (const m of made) expect(remaining.has(m.id), `${m.end} ${m.ageDays}d`).toBe(!expected.includes(m) && m !== softDeleted);
    expect(remaining.has(keep.id)).toBe(true);
    expect(await orphanCount(world())).toBe(0);
    expect(await sweeper.sweep(now)).toEqual({ expired: 0, purged: 0 });
    const log = await ledger.audit.list(t.admin, { action: "retention.delete" });
    expect(log.reduce((sum, e) => sum + Number((e.details as { runs: number }).runs), 0)).toBe(expected.length);
  }, 120_000);

  it("audits a sweep that deletes: retention.delete names the process, retention.sweep gives the sweep's span and count", async () => {
    const ledger = world().ledger;
    const t = await world().tenant();
    // Today: the runs earlier tests left end in 2030, so only this test's runs are due.
    const now = new Date();
    for (let i = 0; i < 3; i++) {
      const run = await t.run({ status: "completed" });
      await storeOf(ledger).driver.run("UPDATE runs SET completed_at = ? WHERE id = ?", [new Date(now.getTime() - 40 * DAY).toISOString(), run.id]);
    }
    await ledger.retention.set(t.admin, { terminal_days: 30 });
    const sweeper = new RetentionSweeper(storeOf(ledger), { intervalMs: 60_000, defaultGraceDays: 7, instance: "sweeper-a" });
    expect((await sweeper.sweep(now)).expired).toBe(3);

    const sweeps = await ledger.audit.list(t.admin, { action: "retention.sweep" });
    expect(sweeps).toHaveLength(1);
    const span = sweeps[0]!.details as { instance: string; started_at: string; finished_at: string; runs: number };
    expect(span).toMatchObject({ instance: "sweeper-a", runs: 3 });
    expect(span.started_at <= span.finished_at).toBe(true);
    const deletes = await ledger.audit.list(t.admin, { action: "retention.delete" });
    expect(deletes.map((e) => e.details)).toEqual([{ status: "completed", older_than_days: 30, runs: 3, instance: "sweeper-a", sweep_started_at: span.started_at }]);
    expect(span.started_at <= deletes[0]!.created_at && deletes[0]!.created_at <= span.finished_at).toBe(true);
    // Nothing left to delete: no entry.
    await sweeper.sweep(now);
    expect(await ledger.audit.list(t.admin, { action: "retention.sweep" })).toHaveLength(1);
  });

  it("lets other work through while it sweeps", async () => {
    const ledger = world().ledger;
    const t = await world().tenant();
    const agent = await t.agent();
    for (let i = 0; i < 300; i++) {
      const run = await ledger.runs.create(t.writer, { agent_id: agent.id });
      await ledger.runs.cancel(t.writer, run.id);
    }
    await storeOf(ledger).driver.run("UPDATE runs SET completed_at = ? WHERE status = 'cancelled'", ["2000-01-01T00:00:00.000Z"]);
    await ledger.retention.set(t.admin, { terminal_days: 1 });
    const order: string[] = [];
    const sweeping = new RetentionSweeper(storeOf(ledger), { intervalMs: 60_000, defaultGraceDays: 7, batchSize: 20 })
      .sweep()
      .then(() => order.push("sweep done"));
    const reading = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      await ledger.agents.get(t.reader, agent.id);
      order.push("read done");
    });
    await Promise.all([sweeping, reading]);
    expect(order).toEqual(["read done", "sweep done"]);
  });

  it("validates policies and keeps them per organization (admin only)", async () => {
    const t = await world().tenant();
    expect(await world().ledger.retention.get(t.admin)).toMatchObject({ terminal_days: null, status_days: {} });
    await expect(world().ledger.retention.set(t.admin, { status_days: { running: 3 } as never })).rejects.toMatchObject({
      code: "VALIDATION_ERROR",
      problems: ["status_days: unknown field 'running'"],
    });
    await expect(world().ledger.retention.set(t.admin, { terminal_days: 0 })).rejects.toMatchObject({ code: "VALIDATION_ERROR", problems: ["terminal_days must be >= 1"] });
    await expect(world().ledger.retention.set(t.writer, { terminal_days: 3 })).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    const set = await world().ledger.retention.set(t.admin, { terminal_days: 90, status_days: { cancelled: 7 } });
    expect(await world().ledger.retention.get(t.admin)).toEqual(set);
  });
});
