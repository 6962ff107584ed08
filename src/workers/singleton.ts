/**
 * Runs a background job in at most one process at a time.
 *
 * PostgreSQL: a session advisory lock, tried (never waited for) on one connection held for
 * the job's duration and released after it. The key pairs the job's constant with a hash of
 * the schema, so installations sharing a database in different schemas do not exclude each
 * other. If the session dies, PostgreSQL drops the lock and another process may start the
 * job while this one finishes; the jobs must therefore stay safe when they do overlap (the
 * reaper's transitions are guarded), and the lock only saves duplicated work.
 *
 * SQLite: the database is one process's file and needs no lock. Two processes opening the
 * same file may both run the job; each write is still a guarded transaction.
 */
import type { Store } from "../store/store.js";

export type SingletonResult<T> = { acquired: true; value: T } | { acquired: false };

/** Runs `job` unless another process holds the lock named by `lockId` (a 32-bit integer). */
export async function runAsSingleton<T>(store: Store, lockId: number, job: () => Promise<T>): Promise<SingletonResult<T>> {
  if (!Number.isSafeInteger(lockId) || lockId < -(2 ** 31) || lockId >= 2 ** 31) throw new RangeError(`lock id ${lockId} is not a 32-bit integer`);
  return store.driver.withSession(async (session) => {
    switch (store.dialect) {
      case "sqlite":
        return { acquired: true, value: await job() };
      case "postgres": {
        const key = `${lockId}, hashtext(current_schema())`;
        const row = await session.get<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${key}) AS locked`);
        if (row?.locked !== true) return { acquired: false };
        // If the unlock fails, withSession discards the connection, which drops the lock with it.
        try {
          return { acquired: true, value: await job() };
        } finally {
          await session.run(`SELECT pg_advisory_unlock(${key})`);
        }
      }
    }
  });
}
