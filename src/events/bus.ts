/**
 * The in-process event bus: delivers run notices to subscribers of a run or of an
 * organization. On SQLite the store publishes here after each commit; on PostgreSQL the
 * LISTEN connection does, for writes from every process.
 */
import type { RunNotice } from "../core/run-notice.js";

export type NoticeListener = (notice: RunNotice) => void;
/** Called when notices may have been missed (a reconnect): every subscriber should re-read. */
export type ResyncListener = () => void;

export class EventBus {
  private readonly byRun = new Map<string, Set<NoticeListener>>();
  private readonly byOrganization = new Map<string, Set<NoticeListener>>();
  private readonly resyncListeners = new Set<ResyncListener>();
  private readonly everything = new Set<NoticeListener>();

  subscribeRun(runId: string, listener: NoticeListener): () => void {
    return add(this.byRun, runId, listener);
  }

  subscribeOrganization(organizationId: string, listener: NoticeListener): () => void {
    return add(this.byOrganization, organizationId, listener);
  }

  /** Every notice (background workers that react to any commit). */
  subscribeAll(listener: NoticeListener): () => void {
    this.everything.add(listener);
    return () => this.everything.delete(listener);
  }

  onResync(listener: ResyncListener): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  publish(notices: readonly RunNotice[]): void {
    for (const notice of notices) {
      for (const listener of this.byRun.get(notice.run_id) ?? []) listener(notice);
      for (const listener of this.byOrganization.get(notice.organization_id) ?? []) listener(notice);
      for (const listener of this.everything) listener(notice);
    }
  }

  resync(): void {
    for (const listener of this.resyncListeners) listener();
  }

  /** Subscribers currently attached (for metrics and tests). */
  get size(): number {
    let n = 0;
    for (const set of this.byRun.values()) n += set.size;
    for (const set of this.byOrganization.values()) n += set.size;
    return n;
  }
}

function add(map: Map<string, Set<NoticeListener>>, key: string, listener: NoticeListener): () => void {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  set.add(listener);
  return () => {
    const current = map.get(key);
    if (current === undefined) return;
    current.delete(listener);
    if (current.size === 0) map.delete(key);
  };
}
