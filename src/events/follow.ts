/**
 * Following a run's event log, or an organization's, as it grows. A follower reads from
 * the table after its cursor, then sleeps until a notice says there is more (or a fallback
 * poll interval passes), and reads again. Notices only wake followers; the rows they read
 * are the truth, so a missed notice delays an event by at most one poll interval.
 */
import type { RunEvent, RunEventKind } from "../core/model.js";
import { isTerminal, type RunStatus } from "../core/run-lifecycle.js";
import type { EventFeedFilter } from "../store/repos/run-events.js";
import type { Store } from "../store/store.js";
import type { EventBus } from "./bus.js";
import type { SharedRunReads } from "./shared-reads.js";

export interface FollowOptions {
  signal: AbortSignal;
  /** Re-read this often even without a notice (a safety net, not the delivery path). */
  pollIntervalMs?: number;
  batchSize?: number;
  /** Called once the follower is subscribed and knows where it starts. */
  onReady?: () => void;
}

const DEFAULT_POLL_MS = 2_000;
const DEFAULT_BATCH = 500;

/**
 * Resolves on wake-up, timeout or abort; a wake that comes before the wait is not lost.
 * It listens to the stream's AbortSignal once, for its whole life (a long-lived stream
 * waits thousands of times), and `close` removes that listener.
 */
class Waiter {
  private pending = true;
  private resolve: (() => void) | undefined;

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener("abort", this.wake, { once: true });
  }

  wake = (): void => {
    this.pending = true;
    this.resolve?.();
  };

  async wait(ms: number): Promise<"woken" | "timeout"> {
    if (this.pending || this.signal.aborted) {
      this.pending = false;
      return "woken";
    }
    let timer: NodeJS.Timeout | undefined;
    const outcome = await new Promise<"woken" | "timeout">((resolve) => {
      this.resolve = () => resolve("woken");
      timer = setTimeout(() => resolve("timeout"), ms);
    });
    clearTimeout(timer);
    this.resolve = undefined;
    this.pending = false;
    return outcome;
  }

  close(): void {
    this.signal.removeEventListener("abort", this.wake);
  }
}

/**
 * Yields the run's events after `afterSeq` (only `kinds`, when given) and returns once the
 * run has ended and every event up to its end was yielded — or when `signal` aborts, or the
 * run is deleted. The caller has already checked that the actor may read the run. Reads go
 * through `reads`, so a notice costs one query however many follow the run.
 */
export async function* followRun(
  reads: SharedRunReads,
  bus: EventBus,
  organizationId: string,
  runId: string,
  afterSeq: number,
  options: FollowOptions & { kinds?: readonly RunEventKind[] },
): AsyncGenerator<RunEvent, RunStatus | undefined> {
  const waiter = new Waiter(options.signal);
  const detach = reads.attach(runId);
  const onNotice = () => {
    reads.invalidate(runId);
    waiter.wake();
  };
  const unsubscribe = bus.subscribeRun(runId, onNotice);
  const unsubscribeResync = bus.onResync(onNotice);
  const batch = options.batchSize ?? DEFAULT_BATCH;
  // Status events are always read, to notice the end, and filtered out below if unwanted.
  const kinds = options.kinds === undefined ? undefined : [...new Set<RunEventKind>([...options.kinds, "status"])];
  let cursor = afterSeq;
  let endSeen = false;
  // After a poll that no notice preceded, take only reads begun since the wait: a notice may have been lost.
  let startedSince: number | undefined;
  try {
    while (!options.signal.aborted) {
      const events = await reads.events(organizationId, runId, cursor, batch, kinds, { startedSince });
      startedSince = undefined;
      for (const event of events) {
        cursor = event.seq_id;
        if (event.kind === "status" && isTerminal(event.event.status as RunStatus)) endSeen = true;
        if (options.kinds === undefined || options.kinds.includes(event.kind)) yield event;
        if (options.signal.aborted) return undefined;
      }
      if (events.length === batch) continue;
      const waitStarted = performance.now();
      const woke = await waiter.wait(endSeen ? 0 : options.pollIntervalMs ?? DEFAULT_POLL_MS);
      if (woke === "timeout" && !endSeen) startedSince = waitStarted;
      if (woke === "timeout" || endSeen || cursor === afterSeq) {
        const run = await reads.run(organizationId, runId, startedSince);
        if (run === undefined) return undefined;
        if (isTerminal(run.status)) {
          // The end is committed; one more read drains anything committed just before it.
          for (;;) {
            const rest = await reads.events(organizationId, runId, cursor, batch, options.kinds, { afterEnd: true });
            for (const event of rest) {
              cursor = event.seq_id;
              yield event;
            }
            if (rest.length < batch) return run.status;
          }
        }
      }
    }
    return undefined;
  } finally {
    unsubscribe();
    unsubscribeResync();
    detach();
    waiter.close();
  }
}

/** How far back the organization feed re-reads to catch events that committed out of id order. */
const LOOKBACK_MS = 5_000;
const LOOKBACK_IDS = 1_000;
/**
 * How often, at most, it re-reads. The look-back returns every event of the last few
 * seconds, so re-reading on every wake would cost the square of the event rate; a late
 * commit reaches the feed within this long instead.
 */
const LOOKBACK_EVERY_MS = 500;

/**
 * Yields the organization's events (filtered by their runs) after event id `afterId`, or
 * from now when it is undefined, until `signal` aborts. PostgreSQL assigns ids before
 * commit, so a transaction can land after one with a larger id was read: whenever the
 * follower is caught up it also re-reads the last few seconds below its cursor and
 * delivers what it had not seen.
 */
export async function* followOrganization(
  store: Store,
  bus: EventBus,
  organizationId: string,
  filter: EventFeedFilter,
  afterId: number | undefined,
  options: FollowOptions,
): AsyncGenerator<RunEvent, void> {
  const waiter = new Waiter(options.signal);
  const unsubscribe = bus.subscribeOrganization(organizationId, waiter.wake);
  const unsubscribeResync = bus.onResync(waiter.wake);
  const batch = options.batchSize ?? DEFAULT_BATCH;
  const events = store.read.events;
  const floor = afterId ?? (await events.latestId(organizationId));
  let cursor = floor;
  options.onReady?.();
  const delivered = new Map<number, number>();
  let lookedBackAt = 0;
  try {
    while (!options.signal.aborted) {
      const fresh = await events.listForOrganization(organizationId, { afterId: cursor }, filter, batch);
      const now = Date.now();
      for (const event of fresh) {
        cursor = event.id!;
        delivered.set(event.id!, now);
        yield event;
        if (options.signal.aborted) return;
      }
      if (fresh.length === batch) continue;
      if (now - lookedBackAt < LOOKBACK_EVERY_MS) {
        await waiter.wait(Math.min(options.pollIntervalMs ?? DEFAULT_POLL_MS, LOOKBACK_EVERY_MS - (now - lookedBackAt)));
        continue;
      }
      lookedBackAt = now;
      const late = await events.listForOrganization(
        organizationId,
        { afterId: Math.max(floor, cursor - LOOKBACK_IDS), upToId: cursor, since: new Date(now - LOOKBACK_MS).toISOString() },
        filter,
        LOOKBACK_IDS,
      );
      for (const event of late) {
        if (delivered.has(event.id!)) continue;
        delivered.set(event.id!, now);
        yield event;
        if (options.signal.aborted) return;
      }
      for (const [id, at] of delivered) if (at < now - 2 * LOOKBACK_MS) delivered.delete(id);
      await waiter.wait(options.pollIntervalMs ?? DEFAULT_POLL_MS);
    }
  } finally {
    unsubscribe();
    unsubscribeResync();
    waiter.close();
  }
}
