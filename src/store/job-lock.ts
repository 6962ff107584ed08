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
import type { Driver } from "./executor.js";

/** The singleton jobs, each with the constant naming its advisory lock (the migration lock is 727_274_001). */
const JOB_LOCKS = { reaper: 727_274_002, retention: 727_274_003 } as const;
export type JobName = keyof typeof JOB_LOCKS;

export type JobLockResult<T> = { acquired: true; value: T } | { acquired: false };

/** Runs `job` unless another process holds the job's lock. */
export function withJobLock<T>(driver: Driver, name: JobName, job: () => Promise<T>): Promise<JobLockResult<T>> {
  return driver.withSession(async (session) => {
    switch (driver.dialect.name) {
      case "sqlite":
        return { acquired: true, value: await job() };
      case "postgres": {
        const key = `${JOB_LOCKS[name]}, hashtext(current_schema())`;
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
