/**
 * One read per run per notice, however many follow it. When a run has a thousand
 * followers, a notice wakes all of them at the same cursor; without sharing, each would
 * send the same query. Here the first follower's read is kept (as a promise) and handed to
 * every follower that asks the same question before the run's next notice.
 *
 * A kept read is correct for as long as no notice for the run has arrived since it began:
 * every commit that could change its answer is followed by a notice, and followers call
 * `invalidate` from their notice listener before they wake. A notice that never arrives
 * (a dropped listener connection) is covered as without sharing: followers fall back to
 * polling, and a poll takes only a read that began after its own wait did. The first
 * follower to poll reads again, and the others at its cursor share that read, so a missed
 * commit reaches everyone within two poll intervals at one query per run per interval.
 */
import type { Run, RunEvent, RunEventKind } from "../core/model.js";
import type { Store } from "../store/store.js";

export interface ReadOptions {
  /** Take a kept read only if it began at or after this `performance.now()` time. */
  startedSince?: number;
  /** See `events`. */
  afterEnd?: boolean;
}

interface KeptRead {
  result: Promise<unknown>;
  startedAt: number;
}

interface RunReads {
  /** Followers currently using this run's entry; the entry goes when the last one leaves. */
  users: number;
  reads: Map<string, KeptRead>;
}

export class SharedRunReads {
  private readonly runs = new Map<string, RunReads>();

  constructor(private readonly store: Store) {}

  /** Registers a follower of the run; call the returned function when it stops following. */
  attach(runId: string): () => void {
    let entry = this.runs.get(runId);
    if (entry === undefined) {
      entry = { users: 0, reads: new Map() };
      this.runs.set(runId, entry);
    }
    entry.users += 1;
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      entry.users -= 1;
      if (entry.users === 0 && this.runs.get(runId) === entry) this.runs.delete(runId);
    };
  }

  /** Forgets the run's kept reads: something about it was committed (or may have been). */
  invalidate(runId: string): void {
    this.runs.get(runId)?.reads.clear();
  }

  /**
   * The run's events after `afterSeq` (see EventRepo.list), shared with identical reads
   * since the last notice. `afterEnd` reads are made only by followers that saw the run
   * ended; they are kept apart from the others, so each of them began after the end was
   * committed and holds every event up to it, whatever notice is still on its way.
   */
  events(organizationId: string, runId: string, afterSeq: number, limit: number, kinds: readonly RunEventKind[] | undefined, options: ReadOptions = {}): Promise<RunEvent[]> {
    const key = `${options.afterEnd ? "end" : "e"}:${organizationId}:${afterSeq}:${limit}:${kinds?.join(",") ?? "*"}`;
    return this.shared(runId, key, options.startedSince, () => this.store.read.events.list(organizationId, runId, afterSeq, limit, kinds));
  }

  /** The run itself, shared the same way. */
  run(organizationId: string, runId: string, startedSince?: number): Promise<Run | undefined> {
    return this.shared(runId, `r:${organizationId}`, startedSince, () => this.store.read.runs.get(organizationId, runId));
  }

  private shared<T>(runId: string, key: string, startedSince: number | undefined, read: () => Promise<T>): Promise<T> {
    const entry = this.runs.get(runId);
    if (entry === undefined) return read();
    const kept = entry.reads.get(key);
    if (kept !== undefined && (startedSince === undefined || kept.startedAt >= startedSince)) return kept.result as Promise<T>;
    const started: KeptRead = { startedAt: performance.now(), result: read() };
    entry.reads.set(key, started);
    // A failed read is not kept: the next follower tries again.
    started.result.catch(() => {
      if (entry.reads.get(key) === started) entry.reads.delete(key);
    });
    return started.result as Promise<T>;
  }
}
