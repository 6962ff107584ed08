/**
 * The liveness reaper: fails runs whose producer has gone away, so that no run stays
 * `created` or `running` forever.
 *
 *   created longer than ttl_s                         → failed, stop_reason expired
 *   active longer than max_duration_s since created   → failed, stop_reason timed_out
 *   last_heartbeat_at older than heartbeat_timeout_s  → failed, stop_reason heartbeat_lost
 *
 * A run's own limit wins over the server default; a default of null or 0 turns its check
 * off. Soft-deleted runs are left alone. Each run is failed in a transaction of its own
 * through `transition()`, so it gets exactly what a producer's failure gets: completed_at,
 * durations, the agent's last_* fields, settled steps, a status event — plus
 * `error: {type: <reason>, message}` saying which limit it passed.
 *
 * Races. Candidates are read without locks, a window of active runs at a time in the order
 * of runs_active_all; each one is then locked and checked again with the same SQL before it
 * is failed. A producer that finishes the run or sends a heartbeat in between wins and the
 * run is skipped, as is a run another reaper got to first.
 *
 * Loop. start() sweeps at once, then again `intervalMs` after each sweep ends (a setTimeout
 * chain, so sweeps never overlap). A failed sweep goes to onError and the loop carries on;
 * nothing a sweep does can crash the process. stop() ends the loop and waits for the sweep in
 * flight, which returns after its current batch. On PostgreSQL one process sweeps at a time
 * (an advisory lock, see store/job-lock.ts); a process that finds the lock taken skips its turn.
 *
 * Audit. Each reaped run is recorded as `run.reap` with the reason, the process (`instance`)
 * and when its sweep started; a sweep that reaped anything then records `reaper.sweep` in
 * each organization it touched, with its instance, start, end and count — still under the
 * job lock, so the spans of two processes' sweeps never overlap.
 */
import { InvalidTransitionError, NotFoundError } from "../core/errors.js";
import { yieldToEventLoop } from "../core/yield.js";
import type { Run } from "../core/model.js";
import { audit, defaultInstance } from "../services/audit.js";
import { transition } from "../services/run-transitions.js";
import type { ActiveKey, LivenessDefaults, LivenessReason, OverdueRun } from "../store/repos/liveness.js";
import type { Store } from "../store/store.js";
import { NO_TELEMETRY, type Telemetry } from "../core/telemetry.js";

export type { LivenessDefaults, LivenessReason } from "../store/repos/liveness.js";

const DEFAULT_BATCH_SIZE = 500;

export type SweepCounts = { [reason in LivenessReason]: number };

export interface LivenessReaperOptions {
  /** Pause between the end of one sweep and the start of the next. */
  intervalMs: number;
  /** Server limits in whole seconds for runs without their own; null or 0 turns a check off. */
  defaults: LivenessDefaults;
  /** Active runs examined per query (default 500); a sweep reads window after window until it has seen them all. */
  batchSize?: number;
  /** Where a failed sweep or a throwing onReaped is reported (default: console.error). */
  onError?: (error: unknown) => void;
  /** Hears each transition and reaped run (default: nobody). */
  telemetry?: Telemetry;
  /** Called after each reaped run's transaction has committed; a returned promise is not awaited, its rejection goes to onError. */
  onReaped?: (run: Run, reason: LivenessReason) => void | Promise<void>;
  /** Names this process in the audit log (default: host and pid). */
  instance?: string;
}

export class LivenessReaper {
  private readonly defaults: LivenessDefaults;
  private readonly batchSize: number;
  /** The last sweep asked for; sweeps run one after another. */
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by start() and stop(), so a sweep that ends after a restart cannot schedule a second loop. */
  private generation = 0;
  private looping = false;
  private halting = false;

  constructor(private readonly store: Store, private readonly options: LivenessReaperOptions) {
    if (!(Number.isFinite(options.intervalMs) && options.intervalMs > 0)) {
      throw new RangeError(`intervalMs must be a positive number of milliseconds, got ${options.intervalMs}`);
    }
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!(Number.isSafeInteger(this.batchSize) && this.batchSize > 0)) throw new RangeError(`batchSize must be a positive integer, got ${this.batchSize}`);
    this.defaults = {
      ttlS: limit("ttlS", options.defaults.ttlS),
      maxDurationS: limit("maxDurationS", options.defaults.maxDurationS),
      heartbeatTimeoutS: limit("heartbeatTimeoutS", options.defaults.heartbeatTimeoutS),
    };
  }

  /**
   * One pass: fails every overdue run, batch after batch, and counts them by reason. `now`
   * (default: when the sweep starts) is the time limits are measured against and the runs'
   * completed_at. Waits for a sweep already in progress. Throws when the store fails; a
   * throwing onReaped is reported to onError instead.
   */
  sweep(now?: Date): Promise<SweepCounts> {
    const result = this.queue.then(() => this.sweepNow(now ?? new Date()));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Sweeps now and then every intervalMs until stop(). Calling it again while running does nothing. */
  start(): void {
    if (this.looping) return;
    this.looping = true;
    this.loop(++this.generation);
  }

  /** Ends the loop and resolves once no sweep is in progress. */
  async stop(): Promise<void> {
    this.looping = false;
    this.generation++;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.halting = true;
    try {
      await this.queue;
    } finally {
      this.halting = false;
    }
  }

  private loop(generation: number): void {
    void this.sweep()
      .then(undefined, (error: unknown) => this.report(error))
      .finally(() => {
        if (!this.looping || generation !== this.generation) return;
        this.timer = setTimeout(() => this.loop(generation), this.options.intervalMs);
        // Housekeeping alone should not keep a process alive; stop() is the orderly way out.
        this.timer.unref();
      });
  }

  private async sweepNow(now: Date): Promise<SweepCounts> {
    const counts: SweepCounts = { expired: 0, timed_out: 0, heartbeat_lost: 0 };
    const at = now.toISOString();
    let tried = 0;
    await this.store.withJobLock("reaper", async () => {
      const span = { instance: this.options.instance ?? defaultInstance(), started_at: new Date().toISOString() };
      const reapedIn = new Map<string, number>();
      // One pass over the active runs, a window at a time: a run that becomes overdue behind
      // the cursor is found by the next sweep.
      let after: ActiveKey | undefined;
      do {
        const started = performance.now();
        const window = await this.store.read.liveness.scan(at, this.defaults, this.batchSize, after);
        for (const candidate of window.overdue) {
          if (this.halting) break;
          // Every few runs, let requests through (SQLite runs each transaction synchronously).
          if (++tried % 50 === 0) await yieldToEventLoop();
          const outcome = await this.reap(candidate, at, span);
          if (outcome === undefined) continue;
          counts[outcome.reason]++;
          reapedIn.set(candidate.organization_id, (reapedIn.get(candidate.organization_id) ?? 0) + 1);
          this.notify(outcome.run, outcome.reason);
        }
        after = window.next;
        // On SQLite each window blocks the event loop while it is read. Leave requests at least
        // three quarters of the time a sweep takes, so a sweep over many active runs never
        // starves a busy server: wait three times as long as this window took.
        if (after !== undefined) await pause(3 * (performance.now() - started));
      } while (after !== undefined && !this.halting);
      if (reapedIn.size > 0) await this.recordSweep(span, reapedIn);
    });
    return counts;
  }

  /** One `reaper.sweep` entry per organization the sweep reaped runs in, in one transaction. */
  private async recordSweep(span: SweepSpan, reapedIn: ReadonlyMap<string, number>): Promise<void> {
    const finished_at = new Date().toISOString();
    await this.store.transaction(async (tx) => {
      for (const [organization_id, runs] of reapedIn) await audit(tx, { organization_id }, "reaper.sweep", { details: { ...span, finished_at, runs } });
    });
  }

  /** Fails one candidate if it is still overdue under its row lock; undefined when it was skipped. */
  private async reap(candidate: OverdueRun, at: string, span: SweepSpan): Promise<{ run: Run; reason: LivenessReason } | undefined> {
    try {
      return await this.store.transaction(async (tx) => {
        const run = await tx.runs.getForUpdate(candidate.organization_id, candidate.id);
        if (run === undefined) return undefined;
        const due = await tx.liveness.check(candidate.organization_id, candidate.id, at, this.defaults);
        if (due === undefined) return undefined;
        const failed = await transition(tx, run, {
          organizationId: candidate.organization_id,
          status: "failed",
          stopReason: due.reason,
          // Stamped when it happens, not when the sweep began: the organization feed re-reads
          // recent events by their time to catch late commits, so a stale stamp could hide it.
          now: laterOf(at, new Date().toISOString()),
          set: { error: { type: due.reason, message: explain(run, due) } },
          telemetry: this.options.telemetry ?? NO_TELEMETRY,
        });
        await audit(tx, { organization_id: candidate.organization_id }, "run.reap", {
          run_id: run.id,
          details: { reason: due.reason, instance: span.instance, sweep_started_at: span.started_at },
        });
        return { run: failed, reason: due.reason };
      });
    } catch (error) {
      // Another writer changed or removed the run first: theirs is the outcome.
      if (error instanceof InvalidTransitionError || error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  private notify(run: Run, reason: LivenessReason): void {
    (this.options.telemetry ?? NO_TELEMETRY).runReaped(reason);
    try {
      const result: unknown = this.options.onReaped?.(run, reason);
      // An async callback's rejection must not become an unhandled rejection.
      if (result instanceof Promise) result.catch((error: unknown) => this.report(error));
    } catch (error) {
      this.report(error);
    }
  }

  private report(error: unknown): void {
    try {
      if (this.options.onError) this.options.onError(error);
      else console.error("runledger liveness reaper:", error);
    } catch {
      // A failing error handler must not end the loop either.
    }
  }
}

interface SweepSpan {
  instance: string;
  started_at: string;
}

/** Waits `ms` on a timer, or lets the event loop turn once when that is under a millisecond. */
function pause(ms: number): Promise<void> {
  return ms < 1 ? yieldToEventLoop() : new Promise((resolve) => setTimeout(resolve, ms));
}

function limit(name: string, seconds: number | null): number | null {
  if (seconds === null || seconds === 0) return null;
  if (!(Number.isSafeInteger(seconds) && seconds > 0)) throw new RangeError(`defaults.${name} must be a whole number of seconds, 0 or null, got ${seconds}`);
  return seconds;
}

function explain(run: Run, due: OverdueRun): string {
  const n = due.limit_s;
  switch (due.reason) {
    case "expired":
      return `the run stayed in created for more than ${n}s without starting (ttl_s ${n}${source(run.ttl_s)})`;
    case "timed_out":
      return `the run was still ${run.status} more than ${n}s after it was created (max_duration_s ${n}${source(run.max_duration_s)})`;
    case "heartbeat_lost":
      return `no heartbeat from the producer for more than ${n}s, the last at ${run.last_heartbeat_at ?? run.created_at} (heartbeat_timeout_s ${n}${source(run.heartbeat_timeout_s)})`;
  }
}

function source(own: number | null): string {
  return own === null ? ", the server default" : "";
}

/** The later of two ISO instants (a sweep given a future `now` keeps it). */
function laterOf(a: string, b: string): string {
  return Date.parse(a) >= Date.parse(b) ? a : b;
}
