/**
 * The real `runledger serve` process: first start on an empty database, settings from the
 * environment and flags, and a clean exit on SIGTERM with everything written kept.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const tsx = join(root, "node_modules/.bin/tsx");
const ADMIN_KEY = "rlk_processtest1_abcdefghijklmnopqrstuvwxyz012345";

interface Started {
  child: ChildProcess;
  baseUrl: string;
  stdout: () => string;
}

/** Starts the server and waits (with a deadline) for its "listening" log line. */
async function start(args: string[], env: Record<string, string>): Promise<Started> {
  const child = spawn(tsx, [join(root, "src/main.ts"), ...args], { env: { ...process.env, LOG_LEVEL: "info", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
    if (match) return { child, baseUrl: match[1]!, stdout: () => out };
    if (child.exitCode !== null) throw new Error(`server exited early: ${out}`);
    await new Promise((resolve) => child.stdout!.once("data", resolve).once("end", resolve));
  }
  child.kill("SIGKILL");
  throw new Error(`server did not start within 20 s: ${out}`);
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once("exit", resolve));
}

describe("the server process", () => {
  const dir = mkdtempSync(join(tmpdir(), "runledger-serve-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prints a generated admin key once on an empty database, serves it, and shuts down cleanly on SIGTERM", async () => {
    const databaseUrl = `sqlite:${join(dir, "first.db")}`;
    const first = await start(["serve", "--port", "0"], { DATABASE_URL: databaseUrl });
    const key = /^\s+(rlk_\S+)$/m.exec(first.stdout())?.[1];
    expect(key).toBeDefined();
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const agent = (await (await fetch(`${first.baseUrl}/v1/agents`, { method: "POST", headers, body: JSON.stringify({ name: "a" }) })).json()) as { id: string };
    const run = (await (await fetch(`${first.baseUrl}/v1/runs`, { method: "POST", headers, body: JSON.stringify({ agent_id: agent.id }) })).json()) as { id: string; status: string };
    expect(run.status).toBe("created");
    first.child.kill("SIGTERM");
    expect(await exited(first.child)).toBe(0);
    expect(first.stdout()).toContain("shutting down");

    const second = await start(["serve", "--port=0"], { DATABASE_URL: databaseUrl });
    try {
      expect(second.stdout()).not.toMatch(/rlk_/);
      const again = await fetch(`${second.baseUrl}/v1/runs/${run.id}`, { headers });
      expect(again.status).toBe(200);
      expect(((await again.json()) as { id: string }).id).toBe(run.id);
    } finally {
      second.child.kill("SIGINT");
      expect(await exited(second.child)).toBe(0);
    }
  });

  it("takes RUNLEDGER_ADMIN_KEY as the first key and prints no secret", async () => {
    const started = await start(["--port", "0", "--database-url", `sqlite:${join(dir, "preset.db")}`], { RUNLEDGER_ADMIN_KEY: ADMIN_KEY });
    try {
      expect(started.stdout()).not.toContain(ADMIN_KEY);
      const orgs = await fetch(`${started.baseUrl}/v1/organizations`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(orgs.status).toBe(200);
      expect(await orgs.json()).toHaveLength(1);
    } finally {
      started.child.kill("SIGTERM");
      expect(await exited(started.child)).toBe(0);
    }
  });

  it("refuses bad settings with a message and exit code 2", async () => {
    const child = spawn(tsx, [join(root, "src/main.ts"), "serve", "--port", "not-a-port"], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
    expect(await exited(child)).toBe(2);
    expect(err).toContain("PORT must be an integer");
  });
});
