/**
 * The real `runledger serve` process: first start on an empty database, settings from the
 * environment and flags, and a clean exit on SIGTERM with everything written kept.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, exited, root, start, tsx } from "../support/process.js";
import { waitFor } from "../support/wait.js";

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

  it("reaps runs past the server's default limits while it serves", async () => {
    const started = await start(["--port", "0", "--database-url", `sqlite:${join(dir, "reaper.db")}`], {
      RUNLEDGER_ADMIN_KEY: ADMIN_KEY,
      RUNLEDGER_REAPER_INTERVAL: "100ms",
      RUNLEDGER_DEFAULT_TTL: "1s",
    });
    try {
      const headers = { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" };
      const agent = (await (await fetch(`${started.baseUrl}/v1/agents`, { method: "POST", headers, body: JSON.stringify({ name: "a" }) })).json()) as { id: string };
      const run = (await (await fetch(`${started.baseUrl}/v1/runs`, { method: "POST", headers, body: JSON.stringify({ agent_id: agent.id }) })).json()) as { id: string };
      const reaped = await waitFor("the run to expire", async () => {
        const current = (await (await fetch(`${started.baseUrl}/v1/runs/${run.id}`, { headers })).json()) as { status: string; stop_reason: string };
        return current.status === "failed" ? current : undefined;
      }, 10_000, 100);
      expect(reaped.stop_reason).toBe("expired");
    } finally {
      started.child.kill("SIGTERM");
      expect(await exited(started.child)).toBe(0);
    }
  });

  it("limits requests and streams per key as RUNLEDGER_RATE_LIMIT and RUNLEDGER_MAX_STREAMS_PER_KEY say", async () => {
    const started = await start(["--port", "0", "--database-url", `sqlite:${join(dir, "limits.db")}`], {
      RUNLEDGER_ADMIN_KEY: ADMIN_KEY,
      RUNLEDGER_RATE_LIMIT: "3/m",
      RUNLEDGER_MAX_STREAMS_PER_KEY: "1",
    });
    const controller = new AbortController();
    try {
      const headers = { authorization: `Bearer ${ADMIN_KEY}` };
      const feed = await fetch(`${started.baseUrl}/v1/runs/events`, { headers, signal: controller.signal });
      expect(feed.status).toBe(200);
      const second = await fetch(`${started.baseUrl}/v1/runs/events`, { headers });
      expect(second.status).toBe(429);
      expect(((await second.json()) as { code: string }).code).toBe("TOO_MANY_STREAMS");
      expect((await fetch(`${started.baseUrl}/v1/runs/`, { headers })).status).toBe(200);
      const limited = await fetch(`${started.baseUrl}/v1/runs/`, { headers });
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).toBe("20");
      expect((await fetch(`${started.baseUrl}/healthz`)).status).toBe(200);
    } finally {
      controller.abort();
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
