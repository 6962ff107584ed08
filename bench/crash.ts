/**
 * Crash safety and scale-out under faults, against real server processes.
 *
 *   npx tsx bench/crash.ts [--backend sqlite|postgres|both] [--processes N] [--kills N] [--seconds N]
 *
 * Part 1 (default: both backends, 1 process): a steady load of full lifecycles, stream
 * readers and an organization-feed reader against one server process, SIGKILLed `--kills`
 * times (default 5) at random moments over `--seconds` (default 40) of load and restarted
 * on the same database each time. Part 2 (`--processes N`, N > 1, PostgreSQL only): N
 * processes on one database with the load round-robin over them, `--kills` kills of a random
 * one, PostgreSQL itself restarted once mid-load, cancels across processes, and the
 * singleton workers' audited sweeps. Afterwards both check what the database holds against
 * the bench's journal of acknowledged writes, the webhook receiver's log and the followers'
 * records (bench/crash/checks.ts says the rules), print figures and violations by kind, and
 * end with PASS (exit 0) or FAIL (exit 1).
 *
 * PostgreSQL runs in a throwaway cluster of its own (pg_createcluster on a free port, trust
 * auth on loopback), dropped at exit, also on failure; the shared cluster is never touched.
 * Needs root and Debian's postgresql-common. A watchdog ends the bench after 20 minutes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ThrowawayCluster } from "./crash/cluster.js";
import { printRules, printSection, type Section, verdict } from "./crash/report.js";
import { runScenario } from "./crash/scenario.js";
import { onExit, watchdog } from "./proc.js";

const { values } = parseArgs({
  options: {
    backend: { type: "string", default: "both" },
    processes: { type: "string", default: "1" },
    kills: { type: "string", default: "5" },
    seconds: { type: "string", default: "40" },
  },
  strict: true,
});

function positive(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer of at least ${min}, got '${value}'`);
  return n;
}

const backend = values.backend!;
if (!["sqlite", "postgres", "both"].includes(backend)) throw new Error(`--backend must be sqlite, postgres or both, got '${backend}'`);
const processes = positive("processes", values.processes!, 1);
const kills = positive("kills", values.kills!, processes > 1 ? 1 : 0);
const seconds = positive("seconds", values.seconds!, 10);
if (processes > 1 && backend === "sqlite") throw new Error("--processes above 1 is the scale-out scenario, on PostgreSQL only: add --backend postgres");

watchdog(20 * 60_000, "crash bench");

async function main(): Promise<boolean> {
  const sections: Section[] = [];
  printRules();
  const report = (section: Section) => {
    printSection(section);
    sections.push(section);
  };
  if (processes === 1 && backend !== "postgres") {
    const dir = mkdtempSync(join(tmpdir(), "runledger-crash-"));
    onExit(() => rmSync(dir, { recursive: true, force: true }));
    console.error("crash bench: SQLite, 1 process");
    report(await runScenario({ title: "Part 1, SQLite, 1 server process", databaseUrl: `sqlite:${join(dir, "crash.db")}`, processes: 1, kills, seconds }));
  }
  if (backend !== "sqlite") {
    const cluster = new ThrowawayCluster();
    try {
      console.error(`crash bench: creating PostgreSQL ${cluster.version} cluster ${cluster.name}`);
      await cluster.create("crash");
      if (processes === 1) {
        report(await runScenario({ title: "Part 1, PostgreSQL, 1 server process", databaseUrl: cluster.url("crash"), processes: 1, kills, seconds }));
      } else {
        report(
          await runScenario({
            title: `Part 2, PostgreSQL, ${processes} server processes, PostgreSQL restarted once`,
            databaseUrl: cluster.url("crash"),
            processes,
            kills,
            seconds,
            restartCluster: cluster,
          }),
        );
      }
    } finally {
      cluster.dropSync();
    }
  }
  return verdict(sections);
}

main().then(
  (passed) => process.exit(passed ? 0 : 1),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
