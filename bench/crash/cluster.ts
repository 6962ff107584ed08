/**
 * What the crash bench controls: server processes (started, SIGKILLed, restarted on the
 * same port and database) and, for PostgreSQL, a throwaway cluster of its own
 * (`pg_createcluster`), restarted with `pg_ctlcluster` and dropped when the bench exits —
 * also on failure. The shared cluster other work uses is never touched.
 */
import { execFile, execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { promisify } from "node:util";
import { freePort, onExit, sleep, startServer, type ServerProcess } from "../proc.js";

const run = promisify(execFile);

interface Slot {
  port: number;
  server: ServerProcess | undefined;
  /** Set just before this bench kills the process, so its exit is not reported as a crash. */
  killing: boolean;
  /** A restart after a crash, in progress. */
  relaunching: Promise<void> | undefined;
}

export class ServerFleet {
  private readonly slots: Slot[] = [];
  private turn = 0;
  /** Exits nobody asked for: a server process that crashed, with the end of its output. */
  readonly crashes: string[] = [];
  kills = 0;
  /** Milliseconds from SIGKILL to the restarted process answering /healthz. */
  readonly restartMs: number[] = [];
  /** When each restarted process answered /healthz again (performance.now()). */
  readonly restartedAt: number[] = [];

  constructor(private readonly env: Record<string, string>) {}

  async start(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const slot: Slot = { port: await freePort(), server: undefined, killing: false, relaunching: undefined };
      this.slots.push(slot);
      await this.launch(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  url(index: number): string {
    return `http://127.0.0.1:${this.slots[index]!.port}`;
  }

  urls(): string[] {
    return this.slots.map((_, i) => this.url(i));
  }

  /** Round-robin over every process, up or not: a request to a dead one fails and is retried on the next. */
  next = (): string => this.url(this.turn++ % this.slots.length);

  /** SIGKILLs process `index`, then starts it again on the same port and database. */
  async killAndRestart(index: number): Promise<void> {
    const slot = this.slots[index]!;
    await slot.relaunching;
    const child = slot.server!.child;
    const t0 = performance.now();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      slot.killing = true;
      child.kill("SIGKILL");
      await exited;
    }
    this.kills++;
    await this.launch(slot);
    this.restartMs.push(performance.now() - t0);
    this.restartedAt.push(performance.now());
  }

  /** Starts a slot's process, trying again while the database is not reachable yet. */
  private async launch(slot: Slot): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        slot.server = await startServer(this.env, [], { port: slot.port });
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(500);
      }
    }
    slot.killing = false;
    const server = slot.server;
    server.child.once("exit", (code, signal) => {
      if (slot.killing || slot.server !== server) return;
      this.crashes.push(`server on port ${slot.port} exited (${signal ?? code}) unasked:\n${server.output().slice(-3_000)}`);
      console.error(`  server on port ${slot.port} crashed (${signal ?? code}); starting it again`);
      // Keep the load going: the crash is reported, the process comes back as after a kill.
      slot.relaunching = this.launch(slot)
        .catch((error: unknown) => void this.crashes.push(`server on port ${slot.port} did not start again: ${String(error)}`))
        .finally(() => (slot.relaunching = undefined));
    });
  }

  /** Waits until every process answers /readyz (its database answers too), or the deadline passes. */
  async ready(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (const url of this.urls()) {
      for (;;) {
        try {
          const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
          await response.arrayBuffer();
          if (response.status === 200) break;
        } catch {
          // not yet
        }
        if (Date.now() > deadline) return false;
        await sleep(100);
      }
    }
    return true;
  }

  async stop(): Promise<void> {
    for (const slot of this.slots) {
      slot.killing = true;
      slot.server?.child.kill("SIGKILL");
    }
  }
}

/** The newest PostgreSQL major version installed (Debian's layout). */
function installedVersion(): string {
  const versions = readdirSync("/usr/lib/postgresql").filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(a) - Number(b));
  if (versions.length === 0) throw new Error("no PostgreSQL under /usr/lib/postgresql: install postgresql-common and a server");
  return versions[versions.length - 1]!;
}

export class ThrowawayCluster {
  readonly version = installedVersion();
  readonly name = `crashbench${process.pid}`;
  port = 0;
  private created = false;
  restarts = 0;

  /** Creates and starts the cluster (trust auth on loopback), and a database in it. */
  async create(database: string): Promise<void> {
    this.port = await freePort();
    this.created = true;
    onExit(() => this.dropSync());
    await run("pg_createcluster", [this.version, this.name, "-p", String(this.port), "--", "--auth-host=trust", "--auth-local=trust"]);
    await run("pg_ctlcluster", [this.version, this.name, "start"]);
    await run("psql", ["-h", "127.0.0.1", "-p", String(this.port), "-U", "postgres", "-c", `CREATE DATABASE ${database}`]);
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** `pg_ctlcluster <version> <name> restart`: every session ends; resolves when it accepts connections again. */
  async restart(): Promise<void> {
    await run("pg_ctlcluster", [this.version, this.name, "restart"]);
    this.restarts++;
  }

  dropSync(): void {
    if (!this.created) return;
    this.created = false;
    try {
      execFileSync("pg_dropcluster", ["--stop", this.version, this.name], { stdio: "ignore" });
    } catch {
      // already gone
    }
  }
}
