/**
 * The writes a PostgreSQL transaction holds back (see Executor.write): sent together as one
 * statement of data-modifying CTEs, `WITH w0 AS (INSERT …), w1 AS (UPDATE …) SELECT …`,
 * with the transaction's notifications in its SELECT, before the transaction's next
 * statement that returns something and before its COMMIT. A transaction's writes whose
 * results nobody reads thus cost one round trip, not one each.
 *
 * All parts of one statement see the same snapshot, so a part cannot see another's rows,
 * and two updates of one row in one statement are undefined. So a statement holds at most
 * one write per table: a second write to a table first sends what is held.
 */
import type { SqlParam } from "../executor.js";

interface Held {
  table: string;
  sql: string;
  params: readonly SqlParam[];
}

export class HeldWrites {
  private writes: Held[] = [];

  constructor(private readonly send: (sql: string, params: readonly SqlParam[]) => Promise<unknown>) {}

  async write(table: string, sql: string, params: readonly SqlParam[]): Promise<void> {
    if (this.writes.some((w) => w.table === table)) await this.flush();
    this.writes.push({ table, sql, params });
  }

  /** Sends what is held, if anything. */
  async flush(): Promise<void> {
    const { writes } = this;
    if (writes.length === 0) return;
    this.writes = [];
    if (writes.length === 1) {
      await this.send(writes[0]!.sql, writes[0]!.params);
      return;
    }
    await this.send(`WITH ${writes.map((w, i) => `w${i} AS (${w.sql})`).join(", ")} SELECT 1`, writes.flatMap((w) => w.params));
  }
}
