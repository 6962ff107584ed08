/** The real `runledger` command, run as a process against a real server and database. */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openLedger } from "../../src/ledger.js";
import { BACKENDS, POSTGRES_URL, uniqueSchema } from "../support/backends.js";
import { ADMIN_KEY, exited, root, start, tsx, type Started } from "../support/process.js";
import { storeOf } from "../../src/store/store.js";

const exec = promisify(execFile);

// Each command is a new Node process (seconds apiece on a busy machine), and a test runs up to six.
for (const backend of BACKENDS) describe.skipIf(!backend.available)(`the runledger command [${backend.name}]`, { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "runledger-cli-"));
  const schema = uniqueSchema();
  const databaseUrl = backend.name === "sqlite" ? `sqlite:${join(dir, "cli.db")}` : `${POSTGRES_URL}?schema=${schema}`;
  let server: Started;
  let agentId: string;
  const runIds: string[] = [];

  async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await exec(tsx, [join(root, "src/main.ts"), ...args], {
        env: { ...process.env, RUNLEDGER_URL: server.baseUrl, RUNLEDGER_API_KEY: ADMIN_KEY, ...env },
        timeout: 30_000,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failure = error as { code: number; stdout: string; stderr: string };
      return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
    }
  }

  beforeAll(async () => {
    server = await start(["serve", "--port", "0", "--database-url", databaseUrl], { RUNLEDGER_ADMIN_KEY: ADMIN_KEY });
    const headers = { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" };
    const post = async (path: string, body: object, method = "POST") =>
      (await (await fetch(`${server.baseUrl}${path}`, { method, headers, body: JSON.stringify(body) })).json()) as { id: string };
    agentId = (await post("/v1/agents", { name: "cli" })).id;
    for (let i = 0; i < 3; i++) runIds.push((await post("/v1/runs", { agent_id: agentId })).id);
    await post(`/v1/runs/${runIds[0]}`, { status: "running" }, "PATCH");
    await post(`/v1/runs/${runIds[0]}/messages`, { messages: [{ message_type: "assistant_message", content: "hello from the run" }] });
    await post(`/v1/runs/${runIds[0]}`, { status: "completed" }, "PATCH");
  }, 60_000);

  afterAll(async () => {
    server.child.kill("SIGTERM");
    await exited(server.child);
    rmSync(dir, { recursive: true, force: true });
    if (backend.name === "postgres") {
      const ledger = await openLedger({ url: databaseUrl, listen: false });
      await storeOf(ledger).driver.run(`DROP SCHEMA ${schema} CASCADE`);
      await ledger.close();
    }
  });

  it("lists runs as a table for people and as JSON for scripts", async () => {
    const table = await cli(["runs", "list"]);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+AGENT_ID\s+STATUS/);
    for (const id of runIds) expect(table.stdout).toContain(id);
    const json = await cli(["runs", "list", "--json", "--status", "created"]);
    expect((JSON.parse(json.stdout) as { id: string }[]).map((r) => r.id).sort()).toEqual(runIds.slice(1).sort());
  });

  it("shows, tails and cancels runs, and reports stats", async () => {
    const show = await cli(["runs", "show", runIds[0]!]);
    expect(show.stdout).toContain("completed");
    const tail = await cli(["runs", "tail", runIds[0]!]);
    expect(tail.code).toBe(0);
    expect(tail.stdout).toContain("hello from the run");
    expect(tail.stdout).toContain("run ended: completed");
    const cancel = await cli(["runs", "cancel", runIds[1]!]);
    expect(cancel.stdout).toContain("cancelled");
    const dry = await cli(["runs", "cancel", "--agent-id", agentId, "--dry-run", "--json"]);
    expect(JSON.parse(dry.stdout)).toEqual({ dry_run: true, matched: 1, changed: 0 });
    const stats = await cli(["runs", "stats", "--json"]);
    expect(JSON.parse(stats.stdout).summary).toMatchObject({ runs: 3, by_status: { completed: 1, cancelled: 1, created: 1 } });
    const table = await cli(["runs", "stats", "--group-by", "status"]);
    expect(table.stdout).toMatch(/^GROUP\s+RUNS/);
  });

  it("manages keys over HTTP and directly on the database, and purges with a progress report", async () => {
    const remote = await cli(["keys", "create", "--role", "read", "--name", "dash", "--json"]);
    const created = JSON.parse(remote.stdout) as { id: string; key: string; role: string };
    expect(created).toMatchObject({ role: "read", name: "dash" });
    const direct = await cli(["keys", "list", "--json", "--database-url", databaseUrl], { RUNLEDGER_URL: "" });
    expect((JSON.parse(direct.stdout) as { id: string }[]).map((k) => k.id)).toContain(created.id);
    expect((await cli(["keys", "revoke", created.id])).stdout).toContain("revoked");
    const purge = await cli(["purge", "--older-than", "0s", "--status", "cancelled", "--json", "--database-url", databaseUrl]);
    expect(purge.code).toBe(0);
    expect(JSON.parse(purge.stdout)).toEqual({ dry_run: false, matched: 1, changed: 1 });
    expect(purge.stderr).toMatch(/deleting/);
    expect((await cli(["runs", "show", runIds[1]!])).code).toBe(3);
  });

  it("fails with clear messages and exit codes", async () => {
    const unknown = await cli(["runs", "list", "--colour", "blue"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--colour");
    const missing = await cli(["runs", "show", "run-00000000-0000-4000-8000-000000000000"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("not found");
    const noKey = await cli(["runs", "list"], { RUNLEDGER_API_KEY: "rlk_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbb" });
    expect(noKey.code).toBe(5);
    expect((await cli(["frobnicate"])).code).toBe(2);
    expect((await cli(["help"])).stdout).toContain("runledger runs tail RUN_ID");
  });
});
