import { expect, it } from "vitest";
import { forEachBackend, type World } from "../support/fixtures.js";
import { storeOf } from "../../src/store/store.js";

async function orphans(world: World): Promise<Record<string, number>> {
  const count = async (sql: string) => Number((await storeOf(world.ledger).driver.get<{ n: number }>(sql))!.n);
  return {
    run_metrics: await count("SELECT count(*) AS n FROM run_metrics WHERE id NOT IN (SELECT id FROM runs)"),
    steps: await count("SELECT count(*) AS n FROM steps WHERE run_id NOT IN (SELECT id FROM runs)"),
    messages: await count("SELECT count(*) AS n FROM messages WHERE run_id NOT IN (SELECT id FROM runs)"),
    run_events: await count("SELECT count(*) AS n FROM run_events WHERE run_id NOT IN (SELECT id FROM runs)"),
    webhook_deliveries: await count("SELECT count(*) AS n FROM webhook_deliveries WHERE run_id NOT IN (SELECT id FROM runs)"),
  };
}

forEachBackend(
  "bulk actions",
  (world) => {
    it("cancel and delete by the list's filters, with dry runs, leaving no orphans among thousands of runs", async () => {
      const t = await world().tenant();
      const ledger = world().ledger;
      const [a, b] = [await t.agent("a"), await t.agent("b")];
      const total = 2_000;
      for (let i = 0; i < total; i++) {
        const run = await ledger.runs.create(t.writer, { agent_id: (i % 2 ? a : b).id, tags: i % 4 === 0 ? ["batch"] : [], callback_url: "https://example.com/hook" });
        if (i % 5 === 0) continue;
        await ledger.runs.update(t.writer, run.id, { status: "running" });
        await ledger.steps.record(t.writer, run.id, { prompt_tokens: 1 });
        await ledger.messages.append(t.writer, run.id, [{ message_type: "user_message", content: "x" }]);
        if (i % 3 === 0) await ledger.runs.update(t.writer, run.id, { status: "completed" });
      }
      const active = await storeOf(ledger).read.runs.count(t.orgId, { agent_ids: [a.id], statuses: ["created", "running"] });
      const dry = await ledger.bulk.cancel(t.writer, { agent_id: a.id, dry_run: true });
      expect(dry).toEqual({ dry_run: true, matched: active, changed: 0 });
      expect(await storeOf(ledger).read.runs.count(t.orgId, { agent_ids: [a.id], statuses: ["created", "running"] })).toBe(active);
      const progress: number[] = [];
      const cancelled = await ledger.bulk.cancel(t.writer, { agent_id: a.id }, (done) => progress.push(done));
      expect(cancelled).toEqual({ dry_run: false, matched: active, changed: active });
      expect(progress.at(-1)).toBe(active);
      expect(await storeOf(ledger).read.runs.count(t.orgId, { agent_ids: [a.id], statuses: ["created", "running"] })).toBe(0);
      expect(await storeOf(ledger).read.runs.count(t.orgId, { agent_ids: [b.id], statuses: ["created", "running"] })).toBeGreaterThan(0);

      const tagged = await storeOf(ledger).read.runs.count(t.orgId, { tags: ["batch"] });
      expect(await ledger.bulk.delete(t.writer, { tags: ["batch"], dry_run: true })).toEqual({ dry_run: true, matched: tagged, changed: 0 });
      expect(await ledger.bulk.delete(t.writer, { tags: ["batch"] })).toEqual({ dry_run: false, matched: tagged, changed: tagged });
      expect(await storeOf(ledger).read.runs.count(t.orgId, {})).toBe(total - tagged);
      const ended = await storeOf(ledger).read.runs.count(t.orgId, { statuses: ["completed", "cancelled"] });
      expect((await ledger.bulk.delete(t.writer, { statuses: ["completed", "cancelled"] })).changed).toBe(ended);
      expect(await orphans(world())).toEqual({ run_metrics: 0, steps: 0, messages: 0, run_events: 0, webhook_deliveries: 0 });
      await expect(ledger.bulk.delete(t.reader, {})).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    }, 120_000);
  },
  { webhookAllowlist: [] },
);
