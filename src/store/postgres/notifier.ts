/**
 * Tells every process LISTENing on the database (this one included) which runs' event logs
 * grew, after each commit. Notices are sent by this process's pool, outside the writing
 * transactions, and coalesced: while one send is in flight, the notices of the commits that
 * land meanwhile wait and go out together in the next (one per run, with its highest seq_id).
 *
 * Why not NOTIFY inside the transaction: PostgreSQL serializes the commits of notifying
 * transactions on one database-wide lock held through the commit's WAL flush, so concurrent
 * writers could not share flushes, and eight of them ran at the speed of one. The cost is
 * that a process dying between a commit and its notice leaves other processes' followers to
 * find the events at their next poll (every 2 s), as after a dropped LISTEN connection.
 */
import { encodeNotice, NOTIFY_CHANNEL, type RunNotice } from "../../core/run-notice.js";
import type { Executor } from "../executor.js";

/** PostgreSQL refuses a notification payload of 8,000 bytes or more; notices are ~90 bytes. */
const NOTICES_PER_STATEMENT = 50;

export class PostgresNotifier {
  private pending = new Map<string, RunNotice>();
  private sending: Promise<void> | undefined;

  constructor(private readonly db: Executor, private readonly onError: (error: unknown) => void = () => {}) {}

  send(notices: readonly RunNotice[]): void {
    for (const notice of notices) {
      const known = this.pending.get(notice.run_id);
      if (known === undefined || known.seq_id < notice.seq_id) this.pending.set(notice.run_id, notice);
    }
    this.sending ??= this.sendPending();
  }

  /** Resolves when every notice handed over so far has been sent (or has failed). */
  async drain(): Promise<void> {
    while (this.sending !== undefined) await this.sending;
  }

  private async sendPending(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const batch = [...this.pending.values()].slice(0, NOTICES_PER_STATEMENT);
        for (const notice of batch) this.pending.delete(notice.run_id);
        try {
          // The statement is a transaction of its own, which a notification makes durable
          // (a WAL flush, like a write's). A notice needs no durability: it commits
          // without waiting for the flush.
          await this.db.run(
            `SELECT set_config('synchronous_commit', 'off', true), ${batch.map(() => `pg_notify('${NOTIFY_CHANNEL}', ?)`).join(", ")}`,
            batch.map(encodeNotice),
          );
        } catch (error) {
          // Followers re-read at their next poll; a notice is never the only way to an event.
          this.onError(error);
        }
      }
    } finally {
      this.sending = undefined;
    }
  }
}
