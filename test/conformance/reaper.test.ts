import { beforeEach, expect, it } from "vitest";
import { InvalidTransitionError } from "../../src/core/errors.js";
import type { Run } from "../../src/core/model.js";
import type { Driver, Executor, SqlParam } from "../../src/store/executor.js";
import { Repos } from "../../src/store/repos.js";
import { openStore, Store, storeOf } from "../../src/store/store.js";
import { LivenessReaper, type LivenessDefaults, type LivenessReaperOptions } from "../../src/workers/reaper.js";
import { forEachBackend, type Tenant } from "../support/fixtures.js";

const MINUTE = 60_000;
const NO_DEFAULTS: LivenessDefaults = { ttlS: null, maxDurationS: null, heartbeatTimeoutS: null };
const NOTHING = { expired: 0, timed_out: 0, heartbeat_lost: 0 };

const at = (iso: string, plusMs: number) => new Date(Date.parse(iso) + plusMs);
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

/** Polls `check` every 20 ms until it holds, failing after `timeoutMs`. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The same database behind a driver whose sessions (one per sweep) are counted, and can be made to fail. */
function instrumented(store: Store, failSessions = 0): { store: Store; sweeps: () => number } {
  const inner = store.driver;
  let sessions = 0;
  const driver: Driver = {
    dialect: inner.dialect,
    all: <T>(sql: string, params?: readonly SqlParam[]) => inner.all<T>(sql, params),
    values: (sql, params) => inner.values(sql, params),
    get: <T>(sql: string, params?: readonly SqlParam[]) => inner.get<T>(sql, params),
    run: (sql, params) => inner.run(sql, params),
    transaction: (fn) => inner.transaction(fn),
    withSession: <T>(fn: (session: Executor) => Promise<T>) => {
      sessions++;
      return sessions <= failSessions ? Promise.reject(new Error(`injected failure ${sessions}`)) : inner.withSession(fn);
    },
    migrate: () => inner.migrate(),
    close: () => inner.close(),
  };
  return { store: new Store(driver), sweeps: () => sessions };
}

forEachBackend("liveness reaper", (world) => {
  const store = () => storeOf(world().ledger);

  function reaper(defaults: Partial<LivenessDefaults> = {}, options: Partial<LivenessReaperOptions> = {}, on: Store = store()) {
    return new LivenessReaper(on, { intervalMs: 20, defaults: { ...NO_DEFAULTS, ...defaults }, ...options });
  }

  async function age(runId: string, times: { created_at?: string; last_heartbeat_at?: string }) {
    const columns = Object.keys(times) as (keyof typeof times)[];
    await store().driver.run(`UPDATE runs SET ${columns.map((c) => `${c} = ?`).join(", ")} WHERE id = ?`, [
      ...columns.map((c) => times[c]!),
      runId,
    ]);
  }

  async function statusEvents(t: Tenant, runId: string) {
    const events = await store().read.events.list(t.orgId, runId, 0, 1000);
    return events.filter((e) => e.kind === "status").map((e) => ({ status: e.event.status, stop_reason: e.event.stop_reason }));
  }

  async function terminalEvents(t: Tenant, runId: string) {
    return (await statusEvents(t, runId)).filter((e) => e.status !== "created" && e.status !== "running");
  }

  async function statusOf(runId: string) {
    return (await store().driver.get<{ status: string; stop_reason: string | null }>("SELECT status, stop_reason FROM runs WHERE id = ?", [runId]))!;
  }

  // The reaper sweeps every organization: end the active runs earlier tests left behind.
  beforeEach(async () => {
    await store().driver.run("UPDATE runs SET status = 'cancelled', stop_reason = 'cancelled' WHERE status IN ('created', 'running')");
  });

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

  it("start() sweeps at once and then every intervalMs; stop() ends the loop", async () => {
    const t = await world().tenant();
    const first = await t.run({ input: { ttl_s: 60 } });
    await age(first.id, { created_at: ago(2 * MINUTE) });
    const counted = instrumented(store());
    const reaped: string[] = [];
    const r = reaper({}, { intervalMs: 20, onReaped: (run) => { reaped.push(run.id); } }, counted.store);
    r.start();
    r.start();
    await waitFor("the first run to expire", () => reaped.includes(first.id));
    const second = await t.run({ input: { ttl_s: 60 } });
    await age(second.id, { created_at: ago(2 * MINUTE) });
    await waitFor("the second run to expire", () => reaped.includes(second.id));
    expect(await statusOf(second.id)).toEqual({ status: "failed", stop_reason: "expired" });

    await r.stop();
    const sweepsAtStop = counted.sweeps();
    // A second reaper on the same interval shows time passing; the stopped one must stay idle.
    const control = instrumented(store());
    const other = reaper({}, { intervalMs: 20 }, control.store);
    other.start();
    await waitFor("the control reaper to sweep five times", () => control.sweeps() >= 5);
    await other.stop();
    expect(counted.sweeps()).toBe(sweepsAtStop);

    const third = await t.run({ input: { ttl_s: 60 } });
    await age(third.id, { created_at: ago(2 * MINUTE) });
    r.start();
    try {
      await waitFor("a restarted loop to reap the third run", () => reaped.includes(third.id));
    } finally {
      await r.stop();
    }
  });

  it("start() sweeps immediately, without waiting for the first interval", async () => {
    const t = await world().tenant();
    const run = await t.run({ status: "running", input: { heartbeat_timeout_s: 60 } });
    await age(run.id, { last_heartbeat_at: ago(2 * MINUTE) });
    const r = reaper({}, { intervalMs: 60 * MINUTE });
    r.start();
    try {
      await waitFor("the run to be reaped", async () => (await statusOf(run.id)).status === "failed");
    } finally {
      await r.stop();
    }
  });

  it("reports a failing sweep to onError and keeps the loop going", async () => {
    const t = await world().tenant();
    const run = await t.run({ input: { ttl_s: 60 } });
    await age(run.id, { created_at: ago(2 * MINUTE) });
    const errors: unknown[] = [];
    const failing = instrumented(store(), 2);
    const r = reaper({}, { onError: (error) => errors.push(error) }, failing.store);
    r.start();
    try {
      await waitFor("the run to be reaped after two failed sweeps", async () => (await statusOf(run.id)).status === "failed");
    } finally {
      await r.stop();
    }
    expect(errors.map((e) => (e as Error).message)).toEqual(["injected failure 1", "injected failure 2"]);
  });

  it("keeps reporting, without crashing, when its store is closed under it", async () => {
    const own = openStore(world().url);
    await own.migrate();
    const errors: unknown[] = [];
    const counted = instrumented(own);
    const r = reaper({ ttlS: 60 }, { onError: (error) => errors.push(error) }, counted.store);
    r.start();
    await waitFor("a first sweep", () => counted.sweeps() >= 1);
    await own.close();
    await waitFor("three failed sweeps", () => errors.length >= 3);
    await r.stop();
    expect(errors.every((e) => e instanceof Error)).toBe(true);
    await expect(r.sweep()).rejects.toThrow();
  });

  it("reports a throwing or rejecting onReaped to onError and still reaps every run", async () => {
    const t = await world().tenant();
    const runs = [await t.run({ input: { ttl_s: 60 } }), await t.run({ input: { ttl_s: 60 } })];
    const now = at(runs[1]!.created_at, 2 * MINUTE);
    const errors: unknown[] = [];
    const throwing = reaper({}, { onError: (e) => errors.push(e), onReaped: (run) => { throw new Error(`listener failed on ${run.id}`); } });
    expect(await throwing.sweep(now)).toEqual({ ...NOTHING, expired: 2 });
    expect(errors.map((e) => (e as Error).message).sort()).toEqual(runs.map((run) => `listener failed on ${run.id}`).sort());
    for (const run of runs) expect(await statusOf(run.id)).toEqual({ status: "failed", stop_reason: "expired" });

    const later = await t.run({ input: { ttl_s: 60 } });
    const rejected: unknown[] = [];
    const rejecting = reaper({}, { onError: (e) => rejected.push(e), onReaped: () => Promise.reject(new Error("async listener failed")) });
    expect(await rejecting.sweep(at(later.created_at, 2 * MINUTE))).toEqual({ ...NOTHING, expired: 1 });
    await waitFor("the rejection to be reported", () => rejected.length === 1);
    expect((rejected[0] as Error).message).toBe("async listener failed");
  });

  it("two reapers sweeping at once fail each overdue run exactly once", async () => {
    const t = await world().tenant();
    const runs = await Promise.all(Array.from({ length: 20 }, () => t.run({ status: "running", input: { heartbeat_timeout_s: 60 } })));
    const now = at(runs.reduce((a, b) => (a.created_at > b.created_at ? a : b)).created_at, 2 * MINUTE);
    // On PostgreSQL the second reaper gets a store of its own, like another process.
    const second = world().backend === "postgres" ? openStore(world().url) : store();
    try {
      const [a, b] = await Promise.all([reaper({}, { batchSize: 4 }).sweep(now), reaper({}, { batchSize: 4 }, second).sweep(now)]);
      expect(a.heartbeat_lost + b.heartbeat_lost).toBe(20);
    } finally {
      if (second !== store()) await second.close();
    }
    for (const run of runs) expect(await terminalEvents(t, run.id)).toEqual([{ status: "failed", stop_reason: "heartbeat_lost" }]);
  });

  it("on PostgreSQL skips the sweep while another session holds the reaper's lock", async ({ skip }) => {
    if (world().backend !== "postgres") skip("SQLite has no advisory locks; one process owns the file");
    const t = await world().tenant();
    const run = await t.run({ input: { ttl_s: 60 } });
    const now = at(run.created_at, 2 * MINUTE);
    // Another process's sweep holds the lock: this one, asking meanwhile, does nothing.
    const whileLocked = await store().withJobLock("reaper", () => reaper().sweep(now));
    expect(whileLocked).toEqual({ acquired: true, value: NOTHING });
    expect(await statusOf(run.id)).toEqual({ status: "created", stop_reason: null });
    expect(await reaper().sweep(now)).toEqual({ ...NOTHING, expired: 1 });
  });

  it("on PostgreSQL refuses to sweep on a pool of one connection instead of waiting on itself forever", async ({ skip }) => {
    if (world().backend !== "postgres") skip("SQLite has no connection pool");
    const tiny = openStore(world().url, { poolSize: 1 });
    try {
      await expect(reaper({}, {}, tiny).sweep()).rejects.toThrow(/pool of at least 2 connections/);
    } finally {
      await tiny.close();
    }
  });

  it("reads the active runs a window at a time through their partial index", async () => {
    const statements: { sql: string; params: readonly SqlParam[] }[] = [];
    const recording: Executor = {
      all: (sql, params = []) => (statements.push({ sql, params }), store().driver.all(sql, params)),
      values: (sql, params = []) => (statements.push({ sql, params }), store().driver.values(sql, params)),
      get: (sql, params = []) => (statements.push({ sql, params }), store().driver.get(sql, params)),
      run: (sql, params = []) => (statements.push({ sql, params }), store().driver.run(sql, params)),
    };
    const after = { status: "running" as const, after: { created_at: new Date().toISOString(), id: "run-00000000-0000-4000-8000-000000000000" } };
    await new Repos(recording, store().driver.dialect).liveness.scan(new Date().toISOString(), { ttlS: 60, maxDurationS: 60, heartbeatTimeoutS: 60 }, 100, after);
    const { sql, params } = statements.at(-1)!;
    let plan: string;
    if (store().dialect === "sqlite") {
      plan = (await store().driver.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params)).map((r) => r.detail).join("\n");
      expect(plan).not.toMatch(/\bSCAN r\b(?! USING)/);
    } else {
      plan = await store().driver.transaction(async (tx) => {
        await tx.run("SET LOCAL enable_seqscan = off");
        return (await tx.all<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, params)).map((r) => r["QUERY PLAN"]).join("\n");
      });
    }
    expect(plan).toMatch(/runs_active_all/);
    // A range from the cursor on, not a walk of every active run in the status.
    if (store().dialect === "sqlite") expect(plan).toMatch(/\(created_at,id\)>\(\?,\?\)|created_at>\?/);
    expect(plan).not.toMatch(/USE TEMP B-TREE FOR ORDER BY|->\s*Sort\b|^Sort\b/m);
  });

  it("rejects options it cannot honour", () => {
    expect(() => reaper({}, { intervalMs: 0 })).toThrow(/intervalMs/);
    expect(() => reaper({}, { batchSize: 0 })).toThrow(/batchSize/);
    expect(() => reaper({ ttlS: -1 })).toThrow(/ttlS/);
    expect(() => reaper({ heartbeatTimeoutS: 1.5 })).toThrow(/heartbeatTimeoutS/);
  });
});
