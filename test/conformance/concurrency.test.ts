/**
 * Writes that race on one run: exactly one terminal transition wins, cancel and complete
 * settle on one answer, and usage and sequence numbers stay exact however the writes
 * interleave (on PostgreSQL they run on separate pooled connections).
 */
import { expect, it } from "vitest";
import type { Run } from "../../src/core/model.js";
import { storeOf } from "../../src/store/store.js";
import { forEachBackend } from "../support/fixtures.js";

forEachBackend(
  "concurrent writes on one run",
  (world) => {
    const events = async (orgId: string, runId: string) => storeOf(world().ledger).read.events.list(orgId, runId, 0, 10_000);

    it("racing terminal transitions: exactly one wins, the others get 409, and the log has one ending", async () => {
      const t = await world().tenant();
      for (let round = 0; round < 5; round++) {
        const run = await t.run({ status: "running" });
        const attempts: Promise<Run>[] = [
          world().ledger.runs.update(t.writer, run.id, { status: "completed", stop_reason: "end_turn" }),
          world().ledger.runs.update(t.writer, run.id, { status: "failed", stop_reason: "error" }),
          world().ledger.runs.update(t.writer, run.id, { status: "failed", stop_reason: "llm_api_error" }),
          world().ledger.runs.update(t.writer, run.id, { status: "completed", stop_reason: "max_steps" }),
        ];
        const settled = await Promise.allSettled(attempts);
        const won = settled.filter((s): s is PromiseFulfilledResult<Run> => s.status === "fulfilled");
        expect(won).toHaveLength(1);
        for (const lost of settled.filter((s) => s.status === "rejected")) {
          expect((lost as PromiseRejectedResult).reason).toMatchObject({ code: "INVALID_TRANSITION" });
        }
        const final = await world().ledger.runs.get(t.reader, run.id);
        expect({ status: final.status, stop_reason: final.stop_reason }).toEqual({ status: won[0]!.value.status, stop_reason: won[0]!.value.stop_reason });
        const endings = (await events(t.orgId, run.id)).filter((e) => e.kind === "status" && ["completed", "failed", "cancelled"].includes(e.event.status as string));
        expect(endings).toHaveLength(1);
      }
    });

    it("cancel against complete: the run ends once, and each caller's answer agrees with how it ended", async () => {
      const t = await world().tenant();
      for (let round = 0; round < 8; round++) {
        const run = await t.run({ status: "running" });
        const [cancel, complete] = await Promise.allSettled([
          world().ledger.runs.cancel(t.writer, run.id),
          world().ledger.runs.update(t.writer, run.id, { status: "completed", stop_reason: "end_turn" }),
        ]);
        const final = await world().ledger.runs.get(t.reader, run.id);
        // Cancel always answers with the run as it is; complete loses with 409 when cancel won.
        expect(cancel.status).toBe("fulfilled");
        expect((cancel as PromiseFulfilledResult<Run>).value.status).toBe(final.status);
        if (final.status === "cancelled") expect(complete).toMatchObject({ status: "rejected", reason: { code: "INVALID_TRANSITION" } });
        else expect(final.status).toBe("completed");
        const endings = (await events(t.orgId, run.id)).filter((e) => e.kind === "status" && e.event.status !== "created" && e.event.status !== "running");
        expect(endings.map((e) => e.event.status)).toEqual([final.status]);
      }
    });

    it("concurrent steps on one run: every one counted, usage totals exact", async () => {
      const t = await world().tenant();
      const run = await t.run({ status: "running" });
      const n = 40;
      await Promise.all(
        Array.from({ length: n }, (_, i) => world().ledger.steps.record(t.writer, run.id, { prompt_tokens: i + 1, completion_tokens: 2 * i, cached_input_tokens: 1 })),
      );
      const usage = await world().ledger.runs.usage(t.reader, run.id);
      const prompt = (n * (n + 1)) / 2;
      const completion = n * (n - 1);
      expect(usage).toMatchObject({ step_count: n, prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, cached_input_tokens: n });
      expect((await world().ledger.runs.metrics(t.reader, run.id)).num_steps).toBe(n);
    });

    it("concurrent message appends: sequence ids unique and dense, each batch contiguous", async () => {
      const t = await world().tenant();
      const run = await t.run({ status: "running" });
      const batches = await Promise.all(
        Array.from({ length: 12 }, (_, b) =>
          world().ledger.messages.append(t.writer, run.id, Array.from({ length: 5 }, (_, i) => ({ message_type: "user_message", content: `batch ${b} message ${i}` }))),
        ),
      );
      for (const batch of batches) {
        const seqs = batch.map((m) => m.seq_id);
        expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
      }
      const log = await events(t.orgId, run.id);
      // The whole log (creation, start, the 60 messages) is numbered 1, 2, 3, … with no gap or repeat.
      expect(log.map((e) => e.seq_id)).toEqual(log.map((_, i) => i + 1));
      expect(log.filter((e) => e.kind === "message")).toHaveLength(60);
      const listed = await world().ledger.messages.list(t.reader, run.id, { limit: 1000 });
      expect(new Set(listed.map((m) => m.seq_id)).size).toBe(60);
    });
  },
  { poolSize: 8 },
);
