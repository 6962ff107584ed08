import { expect, it } from "vitest";
import { InvalidTransitionError } from "../../src/core/errors.js";
import type { Run } from "../../src/core/model.js";
import { Repos } from "../../src/store/repos.js";
import type { Store } from "../../src/store/store.js";
import { forEachBackend } from "../support/fixtures.js";
import { MINUTE, NOTHING, at, ago, reaperKit } from "../support/reaper.js";

forEachBackend("liveness reaper", (world) => {
  const { store, reaper, age, terminalEvents, statusOf } = reaperKit(world);

  it("fails a created run past its own ttl_s as expired, with every side effect of a failure", async () => {
    const t = await world().tenant();
    const run = await t.run({ input: { ttl_s: 60 } });
    const r = reaper();
    expect(await r.sweep(at(run.created_at, 60_000))).toEqual(NOTHING);
    const now = at(run.created_at, 60_001);
    expect(await r.sweep(now)).toEqual({ ...NOTHING, expired: 1 });

    const failed = await world().ledger.runs.get(t.reader, run.id);
    expect(failed).toMatchObject({ status: "failed", stop_reason: "expired", completed_at: now.toISOString(), total_duration_ns: 60_001 * 1e6 });
    expect(failed.error?.type).toBe("expired");
    expect(failed.error?.message).toMatch(/created for more than 60s.*ttl_s 60\)/);
    expect((await world().ledger.runs.metrics(t.reader, run.id)).run_ns).toBe(60_001 * 1e6);
    const agent = await world().ledger.agents.get(t.reader, run.agent_id);
    expect(agent).toMatchObject({ last_stop_reason: "expired", last_run_completion: now.toISOString(), last_run_duration_ms: 60_001 });
    expect(await terminalEvents(t, run.id)).toEqual([{ status: "failed", stop_reason: "expired" }]);
    expect(await r.sweep(at(run.created_at, 10 * MINUTE))).toEqual(NOTHING);
  });

  it("audits a sweep that reaps: each run.reap names the process, reaper.sweep gives the sweep's span and count", async () => {
    const t = await world().tenant();
    const first = await t.run({ input: { ttl_s: 60 } });
    const second = await t.run({ input: { ttl_s: 60 } });
    const r = reaper({}, { instance: "reaper-a" });
    const now = at(second.created_at, 60_001);
    expect(await r.sweep(now)).toEqual({ ...NOTHING, expired: 2 });

    const reaps = await world().ledger.audit.list(t.admin, { action: "run.reap" });
    expect(reaps.map((e) => e.run_id).sort()).toEqual([first.id, second.id].sort());
    const sweeps = await world().ledger.audit.list(t.admin, { action: "reaper.sweep" });
    expect(sweeps).toHaveLength(1);
    const span = sweeps[0]!.details as { instance: string; started_at: string; finished_at: string; runs: number };
    expect(span).toMatchObject({ instance: "reaper-a", runs: 2 });
    for (const reap of reaps) {
      expect(reap.details).toEqual({ reason: "expired", instance: "reaper-a", sweep_started_at: span.started_at });
      expect(span.started_at <= reap.created_at && reap.created_at <= span.finished_at).toBe(true);
    }
    // A sweep that reaps nothing leaves no entry.
    expect(await r.sweep(now)).toEqual(NOTHING);
    expect(await world().ledger.audit.list(t.admin, { action: "reaper.sweep" })).toHaveLength(1);
  });

  it("applies the server ttl to created runs without their own, and only to created runs", async () => {
    const t = await world().tenant();
    const plain = await t.run();
    const ownLonger = await t.run({ input: { ttl_s: 3600 } });
    const running = await t.run({ status: "running", input: { ttl_s: 1 } });
    const now = at(ownLonger.created_at, 31_000);
    expect(await reaper({ ttlS: 0 }).sweep(now)).toEqual(NOTHING);
    // The server's limit is exact to the millisecond, as a run's own is.
    expect(await reaper({ ttlS: 30 }).sweep(at(plain.created_at, 30_000))).toEqual(NOTHING);
    expect(await reaper({ ttlS: 30 }).sweep(now)).toEqual({ ...NOTHING, expired: 1 });
    const failed = await world().ledger.runs.get(t.reader, plain.id);
    expect(failed).toMatchObject({ status: "failed", stop_reason: "expired" });
    expect(failed.error?.message).toContain("ttl_s 30, the server default");
    expect(await world().ledger.runs.get(t.reader, ownLonger.id)).toEqual(ownLonger);
    expect(await world().ledger.runs.get(t.reader, running.id)).toEqual(running);
  });

  it("fails an active run past max_duration_s as timed_out even while it sends heartbeats", async () => {
    const t = await world().tenant();
    const own = await t.run({ status: "running", input: { max_duration_s: 120 } });
    const byDefault = await t.run({ input: { heartbeat_timeout_s: 3600 } });
    const young = await t.run({ status: "running" });
    for (const run of [own, byDefault]) await age(run.id, { created_at: ago(10 * MINUTE), last_heartbeat_at: ago(0) });
    await age(young.id, { created_at: ago(4 * MINUTE) });

    expect(await reaper({ maxDurationS: 300 }).sweep()).toEqual({ ...NOTHING, timed_out: 2 });
    const ownFailed = await world().ledger.runs.get(t.reader, own.id);
    expect(ownFailed).toMatchObject({ status: "failed", stop_reason: "timed_out", error: { type: "timed_out" } });
    expect(ownFailed.error?.message).toMatch(/still running more than 120s after it was created \(max_duration_s 120\)/);
    const defaultFailed = await world().ledger.runs.get(t.reader, byDefault.id);
    expect(defaultFailed).toMatchObject({ status: "failed", stop_reason: "timed_out" });
    expect(defaultFailed.error?.message).toMatch(/still created .*max_duration_s 300, the server default/);
    expect((await world().ledger.runs.get(t.reader, young.id)).status).toBe("running");
  });

  it("fails an active run whose heartbeat is older than heartbeat_timeout_s as heartbeat_lost and settles its steps", async () => {
    const t = await world().tenant();
    const own = await t.run({ status: "running", input: { heartbeat_timeout_s: 60 } });
    const step = await world().ledger.steps.record(t.writer, own.id, { model: "m" });
    const byDefault = await t.run();
    const lastBeat = ago(5 * MINUTE);
    await age(own.id, { last_heartbeat_at: lastBeat });
    await age(byDefault.id, { last_heartbeat_at: ago(2 * MINUTE) });

    expect(await reaper({ heartbeatTimeoutS: 90 }).sweep()).toEqual({ ...NOTHING, heartbeat_lost: 2 });
    const ownFailed = await world().ledger.runs.get(t.reader, own.id);
    expect(ownFailed).toMatchObject({ status: "failed", stop_reason: "heartbeat_lost", error: { type: "heartbeat_lost" } });
    expect(ownFailed.error?.message).toContain(`more than 60s, the last at ${lastBeat} (heartbeat_timeout_s 60)`);
    expect((await world().ledger.steps.get(t.reader, step.id)).status).toBe("failed");
    expect(await terminalEvents(t, own.id)).toEqual([{ status: "failed", stop_reason: "heartbeat_lost" }]);
    expect((await world().ledger.runs.get(t.reader, byDefault.id)).error?.message).toContain("heartbeat_timeout_s 90, the server default");
  });

  it("counts any update, step, message or heartbeat from the producer as a heartbeat", async () => {
    const t = await world().tenant();
    const runs = await Promise.all([1, 2, 3, 4].map(() => t.run({ status: "running", input: { heartbeat_timeout_s: 60 } })));
    for (const run of runs) await age(run.id, { created_at: ago(10 * MINUTE), last_heartbeat_at: ago(5 * MINUTE) });
    const [updated, stepped, messaged, beat] = runs as [Run, Run, Run, Run];
    await world().ledger.runs.update(t.writer, updated.id, { metadata: { progress: 1 } });
    await world().ledger.steps.record(t.writer, stepped.id, { model: "m" });
    await world().ledger.messages.append(t.writer, messaged.id, [{ message_type: "user_message", content: "hi" }]);
    await world().ledger.runs.heartbeat(t.writer, beat.id);
    expect(await reaper().sweep()).toEqual(NOTHING);
    for (const run of runs) expect((await world().ledger.runs.get(t.reader, run.id)).status).toBe("running");
  });

  it("reports expired before timed_out before heartbeat_lost when several limits have passed", async () => {
    const t = await world().tenant();
    const limits = { ttl_s: 60, max_duration_s: 60, heartbeat_timeout_s: 60 };
    const created = await t.run({ input: limits });
    const running = await t.run({ status: "running", input: limits });
    const now = at(running.created_at, 10 * MINUTE);
    expect(await reaper().sweep(now)).toEqual({ ...NOTHING, expired: 1, timed_out: 1 });
    expect(await statusOf(created.id)).toEqual({ status: "failed", stop_reason: "expired" });
    expect(await statusOf(running.id)).toEqual({ status: "failed", stop_reason: "timed_out" });
  });

  it("leaves healthy, terminal and soft-deleted runs alone", async () => {
    const t = await world().tenant();
    const limits = { ttl_s: 60, max_duration_s: 60, heartbeat_timeout_s: 60 };
    const healthy = [await t.run({ input: limits }), await t.run({ status: "running", input: limits }), await t.run({ status: "running" })];
    const ended = await Promise.all((["completed", "failed", "cancelled"] as const).map((status) => t.run({ status, input: limits })));
    const deleted = await t.run({ input: limits });
    await world().ledger.runs.softDelete(t.writer, deleted.id);
    const defaults = { ttlS: 60, maxDurationS: 60, heartbeatTimeoutS: 60 };

    expect(await reaper(defaults).sweep()).toEqual(NOTHING);
    for (const run of healthy) expect(await world().ledger.runs.get(t.reader, run.id)).toEqual(run);

    for (const run of [...ended, deleted]) await age(run.id, { created_at: ago(60 * MINUTE), last_heartbeat_at: ago(60 * MINUTE) });
    expect(await reaper(defaults).sweep()).toEqual(NOTHING);
    for (const run of ended) {
      expect(await statusOf(run.id)).toEqual({ status: run.status, stop_reason: run.stop_reason });
      expect(await terminalEvents(t, run.id)).toHaveLength(1);
    }
    // Soft delete cancelled the run; the reaper does not touch it again.
    expect(await statusOf(deleted.id)).toEqual({ status: "cancelled", stop_reason: "cancelled" });
    expect(await terminalEvents(t, deleted.id)).toHaveLength(1);
  });

  it("skips a run the producer completes or revives between the scan and the lock", async () => {
    const t = await world().tenant();
    const completed = await t.run({ status: "running", input: { heartbeat_timeout_s: 60 } });
    const revived = await t.run({ status: "running", input: { heartbeat_timeout_s: 60 } });
    // Distinct creation times fix the order in which the sweep meets them (the moves below follow it).
    await age(completed.id, { created_at: ago(7 * MINUTE), last_heartbeat_at: ago(5 * MINUTE) });
    await age(revived.id, { created_at: ago(6 * MINUTE), last_heartbeat_at: ago(5 * MINUTE) });

    // The producer acts after the reaper has listed the run as overdue, before it locks it.
    const racing = Object.create(store()) as Store;
    const producerMoves = [
      () => world().ledger.runs.update(t.writer, completed.id, { status: "completed", stop_reason: "end_turn" }),
      () => world().ledger.runs.heartbeat(t.writer, revived.id),
    ];
    racing.transaction = async <T>(fn: (tx: Repos) => Promise<T>): Promise<T> => {
      await producerMoves.shift()?.();
      return store().transaction(fn);
    };
    const reaped: Run[] = [];
    const r = reaper({}, { batchSize: 1, onReaped: (run) => { reaped.push(run); } }, racing);
    expect(await r.sweep()).toEqual(NOTHING);
    expect(producerMoves).toHaveLength(0);
    expect(reaped).toEqual([]);
    expect(await terminalEvents(t, completed.id)).toEqual([{ status: "completed", stop_reason: "end_turn" }]);
    expect(await statusOf(revived.id)).toEqual({ status: "running", stop_reason: null });
  });

  it("of a producer's completion racing a sweep exactly one terminal transition lands per run", async () => {
    const t = await world().tenant();
    const runs = await Promise.all(Array.from({ length: 10 }, () => t.run({ status: "running", input: { heartbeat_timeout_s: 60 } })));
    for (const run of runs) await age(run.id, { last_heartbeat_at: ago(5 * MINUTE) });
    const [counts, ...completions] = await Promise.allSettled([
      reaper({}, { batchSize: 3 }).sweep(),
      ...runs.map((run) => world().ledger.runs.update(t.writer, run.id, { status: "completed", stop_reason: "end_turn" })),
    ]);
    let failed = 0;
    for (const [i, run] of runs.entries()) {
      const final = await statusOf(run.id);
      expect(await terminalEvents(t, run.id)).toEqual([final]);
      const completion = completions[i]!;
      if (final.status === "failed") {
        failed++;
        expect(final.stop_reason).toBe("heartbeat_lost");
        expect(completion.status === "rejected" && completion.reason instanceof InvalidTransitionError).toBe(true);
      } else {
        expect(final).toEqual({ status: "completed", stop_reason: "end_turn" });
        expect(completion.status).toBe("fulfilled");
      }
    }
    expect(counts).toEqual({ status: "fulfilled", value: { ...NOTHING, heartbeat_lost: failed } });
  });

  it("sweeps in batches until nothing is overdue and counts each reason", async () => {
    const t = await world().tenant();
    const make = (count: number, status: "created" | "running", input: Record<string, unknown>) =>
      Promise.all(Array.from({ length: count }, () => t.run({ status, input })));
    await make(3, "created", { ttl_s: 60, heartbeat_timeout_s: 3600 });
    await make(2, "running", { max_duration_s: 60, heartbeat_timeout_s: 3600 });
    const last = (await make(2, "running", { heartbeat_timeout_s: 60 })).at(-1)!;
    const now = at(last.created_at, 2 * MINUTE);
    const r = reaper({}, { batchSize: 2 });
    expect(await r.sweep(now)).toEqual({ expired: 3, timed_out: 2, heartbeat_lost: 2 });
    expect(await r.sweep(now)).toEqual(NOTHING);
    expect(await world().ledger.runs.list(t.reader, { statuses: ["created", "running"] })).toEqual([]);
  });

  it("finds overdue runs spread among live ones across many windows, in one sweep", async () => {
    const t = await world().tenant();
    // In creation order, every third run has a short ttl; the others would expire only in an hour.
    const runs = [];
    for (let i = 0; i < 14; i++) runs.push(await t.run({ status: "created", input: { ttl_s: i % 3 === 0 ? 60 : 3600, heartbeat_timeout_s: 7200 } }));
    const now = at(runs.at(-1)!.created_at, 2 * MINUTE);
    const overdue = runs.filter((_, i) => i % 3 === 0).map((run) => run.id);
    const reaped: string[] = [];
    expect(await reaper({}, { batchSize: 4, onReaped: (run) => { reaped.push(run.id); } }).sweep(now)).toEqual({ ...NOTHING, expired: overdue.length });
    expect(reaped.sort()).toEqual([...overdue].sort());
    const left = await world().ledger.runs.list(t.reader, { statuses: ["created"], limit: 100 });
    expect(left.map((run) => run.id).sort()).toEqual(runs.filter((_, i) => i % 3 !== 0).map((run) => run.id).sort());
  });
});
