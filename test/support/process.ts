/** Starting real runledger server processes for tests, and waiting for them with deadlines. */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

export const root = join(import.meta.dirname, "../..");
export const tsx = join(root, "node_modules/.bin/tsx");

/**
 * node itself with the TypeScript loader, not the tsx wrapper: a signal sent to the child
 * must reach the server (the wrapper is a separate process that SIGKILL would leave the
 * server orphaned behind).
 */
export const NODE_WITH_TSX = [process.execPath, "--import", "tsx"] as const;
export const ADMIN_KEY = "rlk_processtest1_abcdefghijklmnopqrstuvwxyz012345";

export interface Started {
  child: ChildProcess;
  baseUrl: string;
  stdout: () => string;
}

/** Starts the server and waits (with a deadline) for its "listening" log line. */
export async function start(args: string[], env: Record<string, string>): Promise<Started> {
  const child = spawn(NODE_WITH_TSX[0], [...NODE_WITH_TSX.slice(1), join(root, "src/main.ts"), ...args], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
    if (match) return { child, baseUrl: match[1]!, stdout: () => out };
    if (child.exitCode !== null) throw new Error(`server exited early: ${out}`);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        child.stdout!.off("data", done);
        resolve();
      };
      const timer = setTimeout(done, 200);
      child.stdout!.on("data", done);
    });
  }
  child.kill("SIGKILL");
  throw new Error(`server did not start within 20 s: ${out}`);
}

export function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once("exit", resolve));
}

