import { expect, it } from "vitest";
import type { Executor, SqlParam } from "../../src/store/executor.js";
import { Repos } from "../../src/store/repos.js";
import { openStore } from "../../src/store/store.js";
import { forEachBackend } from "../support/fixtures.js";
import { MINUTE, NOTHING, at, ago, instrumented, reaperKit } from "../support/reaper.js";
import { waitFor } from "../support/wait.js";

forEachBackend("liveness reaper loop", (world) => {
  const { store, reaper, age, terminalEvents, statusOf } = reaperKit(world);

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
