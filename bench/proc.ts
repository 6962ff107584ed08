/**
 * Child processes for the streams and webhooks benchmarks: real server processes
 * (`node --import tsx src/main.ts serve`) and bench helpers, always killed when this
 * process exits; plus /proc readings (RSS, CPU) and a free-port picker.
 *
 * The server logs at LOG_LEVEL=warn so per-request logging stays off, which also hides
 * Fastify's "Server listening at …" line (an info message): the bench picks a free port
 * itself, passes it with --port, and polls /healthz — and still accepts the listening line
 * if a lower level prints it.
 */
import { type ChildProcess, fork, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CLK_TCK = 100;

const children = new Set<ChildProcess>();

function killAll(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

const cleanups: (() => void)[] = [];
/** Runs `fn` (synchronously) when this process exits, however it exits. */
export function onExit(fn: () => void): void {
  cleanups.push(fn);
}

process.on("exit", () => {
  killAll();
  for (const fn of cleanups) {
    try {
      fn();
    } catch {
      // best effort
    }
  }
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\nbench: ${signal}, stopping`);
    process.exit(130);
  });
}

/** Gives up (and kills every child) if the bench runs longer than `ms`. */
export function watchdog(ms: number, name: string): void {
  setTimeout(() => {
    console.error(`${name}: still running after ${Math.round(ms / 60_000)} min, giving up`);
    process.exit(1);
  }, ms).unref();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  baseUrl: string;
  /** The first 16 KiB it printed. */
  head(): string;
  /** The last 16 KiB it printed. */
  output(): string;
}

/**
 * Starts `node --import tsx src/main.ts serve --port <free>` (or `options.port`, e.g. to
 * restart a killed server where its clients expect it) and waits until /healthz answers.
 */
export async function startServer(env: Record<string, string>, extraNodeArgs: string[] = [], options: { port?: number } = {}): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, [...extraNodeArgs, "--import", "tsx", "src/main.ts", "serve", "--port", String(port)], {
    cwd: ROOT,
    // Benchmarks attach thousands of subscribers with one key: no cap on streams per key unless a caller sets one.
    env: { ...process.env, LOG_LEVEL: "warn", RUNLEDGER_MAX_STREAMS_PER_KEY: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  // The first 16 KiB (start-up lines such as the inspector URL) and the last 16 KiB.
  let head = "";
  let tail = "";
  const keep = (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    if (head.length < 16_384) head += text.slice(0, 16_384 - head.length);
    tail = (tail + text).slice(-16_384);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  let baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited before it was ready:\n${tail}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`server not ready within 30 s:\n${tail}`);
    }
    // pino prints JSON lines; the msg is "Server listening at http://127.0.0.1:PORT".
    const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(tail);
    if (match) baseUrl = match[1]!;
    try {
      const response = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === 200) break;
    } catch {
      // not up yet
    }
    await sleep(50);
  }
  return { child, pid: child.pid!, baseUrl, head: () => head, output: () => tail };
}

export async function stopProcess(child: ChildProcess, timeoutMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** Forks a bench helper script (TypeScript, through tsx) with an IPC channel; `env` is added to this process's environment. */
export function forkHelper(script: string, args: string[] = [], execArgv: string[] = [], env: Record<string, string> = {}): ChildProcess {
  const child = fork(join(ROOT, script), args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    execArgv: [...execArgv, "--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resident set size of a process in KiB (VmRSS). */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]);
}

/**
 * A process's resident memory in KiB, split: `anon` is its own (heap, stacks, native
 * allocations), `file` is file pages mapped in (code, and a memory-mapped SQLite database),
 * `shmem` shared memory (SQLite's -shm index).
 */
export function rssPartsKiB(pid: number): { anon: number; file: number; shmem: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const read = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, "m").exec(status);
    if (!match) throw new Error(`no ${name} for ${pid}`);
    return Number(match[1]);
  };
  return { anon: read("RssAnon"), file: read("RssFile"), shmem: read("RssShmem") };
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Busy and total CPU seconds of the whole machine so far (all CPUs). */
export function machineCpu(): { busy: number; total: number } {
  const values = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = values.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = values[3]! + (values[4] ?? 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

/** CPU seconds and command name of every process on the machine. */
function allProcesses(): Map<number, { cpu: number; name: string }> {
  const out = new Map<number, { cpu: number; name: string }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(entry), { cpu: (Number(fields[11]) + Number(fields[12])) / CLK_TCK, name });
    } catch {
      // gone
    }
  }
  return out;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
  } catch {
    return "";
  }
}

/** Measures CPU shares (of one core) of some processes, and the machine's busy share, over a window. */
export class CpuWindow {
  private readonly start: Map<number, number>;
  private readonly machineStart = machineCpu();
  private readonly everyone = allProcesses();
  private readonly t0 = performance.now();

  constructor(private readonly pids: readonly number[]) {
    this.start = new Map(pids.map((pid) => [pid, safeCpu(pid)]));
  }

  /**
   * Share of one core per pid, of all cores for the machine, and the processes outside
   * `pids` (and outside `ours`, e.g. PostgreSQL backends serving us) that used the most.
   */
  stop(ours: (pid: number, cmd: string) => boolean = () => false): {
    perPid: Map<number, number>;
    machine: number;
    seconds: number;
    others: { pid: number; name: string; share: number }[];
  } {
    const seconds = (performance.now() - this.t0) / 1000;
    const perPid = new Map<number, number>();
    for (const pid of this.pids) perPid.set(pid, (safeCpu(pid) - this.start.get(pid)!) / seconds);
    const m = machineCpu();
    const machine = (m.busy - this.machineStart.busy) / Math.max(0.001, m.total - this.machineStart.total);
    const others: { pid: number; name: string; share: number }[] = [];
    for (const [pid, now] of allProcesses()) {
      if (this.pids.includes(pid) || pid === process.pid) continue;
      const share = (now.cpu - (this.everyone.get(pid)?.cpu ?? 0)) / seconds;
      if (share < 0.02) continue;
      const cmd = commandLine(pid);
      if (ours(pid, cmd)) continue;
      others.push({ pid, name: cmd.slice(0, 600) || now.name, share });
    }
    others.sort((a, b) => b.share - a.share);
    return { perPid, machine, seconds, others };
  }
}

function safeCpu(pid: number): number {
  try {
    return cpuSeconds(pid);
  } catch {
    return 0;
  }
}

/** Runs a bench's main function, then exits: 0 when it resolves, 1 (after printing) when it throws. */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

/** Whether the module at `moduleUrl` (its `import.meta.url`) is the script this process was started with. */
export function isEntry(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(moduleUrl);
}
