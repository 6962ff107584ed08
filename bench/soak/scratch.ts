/**
 * A fresh database per soak run and its WAL size. SQLite: a file in a temp directory, removed
 * at exit; WAL = the size of its `-wal` file. PostgreSQL: `CREATE DATABASE soak_<random>` on
 * the server's `postgres` database, dropped at exit (WITH (FORCE), which ends only that
 * database's sessions); WAL = the bytes of WAL written since the previous reading
 * (`pg_wal_lsn_diff` of `pg_current_wal_lsn()`). That is the whole cluster's, shared with
 * whatever else uses the server: PostgreSQL keeps no WAL figure per database. The WAL
 * directory's size (`pg_ls_waldir()`) is no measure at all here: with the default
 * `max_wal_size` it sits at its 1 GiB of recycled segments.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { onExit } from "../proc.js";

export const PG_ADMIN_URL = process.env.RUNLEDGER_SOAK_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface Scratch {
  databaseUrl: string;
  /** SQLite: the WAL file's size now. PostgreSQL: WAL bytes written since the previous call. */
  walBytes(): Promise<number>;
  drop(): Promise<void>;
}

export function sqliteScratch(): Scratch {
  const dir = mkdtempSync(join(tmpdir(), "runledger-soak-"));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  onExit(remove);
  const file = join(dir, "soak.db");
  return {
    databaseUrl: `sqlite:${file}`,
    walBytes: async () => {
      try {
        return statSync(`${file}-wal`).size;
      } catch {
        return 0;
      }
    },
    drop: async () => remove(),
  };
}

export async function postgresScratch(): Promise<Scratch> {
  const name = `soak_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  let dropped = false;
  // If the process dies before drop() (a signal, the watchdog), drop it synchronously.
  onExit(() => {
    if (!dropped) execFileSync("psql", [PG_ADMIN_URL, "-qc", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], { stdio: "ignore" });
  });
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const position = async () => (await admin.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0]!.lsn;
  let last = await position();
  return {
    databaseUrl: url.toString(),
    walBytes: async () => {
      const now = await position();
      const written = await admin.query<{ bytes: string }>("SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::bigint AS bytes", [now, last]);
      last = now;
      return Number(written.rows[0]!.bytes);
    },
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      dropped = true;
      await admin.end();
    },
  };
}
