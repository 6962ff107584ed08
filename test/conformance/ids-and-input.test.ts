import { expect, it } from "vitest";
import { InvalidArgumentError, NotFoundError, ValidationError } from "../../src/core/errors.js";
import { forEachBackend } from "../support/fixtures.js";

const UNKNOWN_RUN = "run-00000000-0000-4000-8000-000000000000";

forEachBackend("ids and input", (world) => {
  it("a malformed id is an invalid argument naming the expected format; an unknown one is not found", async () => {
    const t = await world().tenant();
    const ledger = world().ledger;
    for (const bad of ["", "run-123", "agent-00000000-0000-4000-8000-000000000000", "RUN-00000000-0000-4000-8000-000000000000", "run-' OR 1=1 --"]) {
      const error = await ledger.runs.get(t.reader, bad).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toContain("'run-' followed by a lowercase UUID v4");
    }
    await expect(ledger.runs.get(t.reader, UNKNOWN_RUN)).rejects.toBeInstanceOf(NotFoundError);
    await expect(ledger.steps.get(t.reader, "step-x")).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(ledger.runs.create(t.writer, { agent_id: "agent-nope" })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(ledger.runs.create(t.writer, { agent_id: "agent-00000000-0000-4000-8000-000000000000" })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("rejects malformed run input without writing anything", async () => {
    const t = await world().tenant();
    const ledger = world().ledger;
    const agent = await t.agent();
    // What the schema refuses is a ValidationError; what only the service can judge, an InvalidArgumentError.
    const refusedBySchema: Record<string, unknown>[] = [
      { agent_id: agent.id, metadata: "not an object" },
      { agent_id: agent.id, tags: "red" },
      { agent_id: agent.id, tags: Array.from({ length: 65 }, (_, i) => `t${i}`) },
      { agent_id: agent.id, ttl_s: 0 },
      { agent_id: agent.id, background: "yes" },
      { agent_id: agent.id, colour: "blue" },
    ];
    for (const input of refusedBySchema) {
      await expect(ledger.runs.create(t.writer, input as never), JSON.stringify(input)).rejects.toBeInstanceOf(ValidationError);
    }
    const refusedByService: Record<string, unknown>[] = [
      { agent_id: agent.id, metadata: { big: "x".repeat(70_000) } },
      { agent_id: agent.id, callback_url: "ftp://example.com/hook" },
      { agent_id: agent.id, callback_url: "not a url" },
    ];
    for (const input of refusedByService) {
      await expect(ledger.runs.create(t.writer, input as never), JSON.stringify(input).slice(0, 80)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(await ledger.runs.list(t.reader)).toEqual([]);
  });

  it("an idempotency key returns the same run for the same body and conflicts for another", async () => {
    const t = await world().tenant();
    const ledger = world().ledger;
    const agent = await t.agent();
    const body = { agent_id: agent.id, metadata: { a: 1, b: 2 }, idempotency_key: "k-1" };
    const first = await ledger.runs.createOrReplay(t.writer, body);
    expect(first.created).toBe(true);
    const again = await ledger.runs.createOrReplay(t.writer, { ...body, metadata: { b: 2, a: 1 } });
    expect(again).toEqual({ run: first.run, created: false });
    await expect(ledger.runs.create(t.writer, { ...body, metadata: { a: 2 } })).rejects.toMatchObject({ code: "CONFLICT" });
    const concurrent = await Promise.all(
      Array.from({ length: 10 }, () => ledger.runs.createOrReplay(t.writer, { agent_id: agent.id, idempotency_key: "k-2" })),
    );
    expect(new Set(concurrent.map((c) => c.run.id)).size).toBe(1);
    expect(concurrent.filter((c) => c.created)).toHaveLength(1);
    expect(await ledger.runs.list(t.reader)).toHaveLength(2);
    const other = await world().tenant();
    const otherAgent = await other.agent();
    expect((await ledger.runs.createOrReplay(other.writer, { agent_id: otherAgent.id, idempotency_key: "k-1" })).created).toBe(true);
  });
});
