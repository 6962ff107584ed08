import { beforeEach } from "vitest";
import type { Driver, Executor, SqlParam } from "../../src/store/executor.js";
import { Store, storeOf } from "../../src/store/store.js";
import { LivenessReaper, type LivenessDefaults, type LivenessReaperOptions } from "../../src/workers/reaper.js";
import type { Tenant, World } from "./fixtures.js";

export const MINUTE = 60_000;
export const NO_DEFAULTS: LivenessDefaults = { ttlS: null, maxDurationS: null, heartbeatTimeoutS: null };
export const NOTHING = { expired: 0, timed_out: 0, heartbeat_lost: 0 };

export const at = (iso: string, plusMs: number) => new Date(Date.parse(iso) + plusMs);
export const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

/** The same database behind a driver whose sessions (one per sweep) are counted, and can be made to fail. */
export function instrumented(store: Store, failSessions = 0): { store: Store; sweeps: () => number } {
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

/**
 * What the reaper suites share inside one backend's describe: the store, a reaper with
 * defaults, ways to age a run and read its status events. Ends, before each test, the
 * active runs earlier tests left behind, since the reaper sweeps every organization.
 */
export function reaperKit(world: () => World) {
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
  return { store, reaper, age, statusEvents, terminalEvents, statusOf };
}
