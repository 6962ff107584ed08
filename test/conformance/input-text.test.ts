/**
 * A library caller gets the same protection as an HTTP client: a NUL character in any
 * string or key, and a value nested past 64 levels (or a cyclic one), are refused with an
 * InvalidArgumentError naming the field, before anything is written.
 */
import { expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/core/errors.js";
import { forEachBackend } from "../support/fixtures.js";
import { rowCounts } from "../support/row-counts.js";

const nested = (depth: number): unknown => {
  let value: unknown = [];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
};

forEachBackend("NUL characters and deep nesting in process", (world) => {
  it("refuses a NUL in any string field, key or message with an InvalidArgumentError naming the field, writing nothing", async () => {
    const { ledger } = world();
    const t = await world().tenant();
    const agent = await t.agent();
    const run = await t.run({ agentId: agent.id, status: "running" });
    const step = await ledger.steps.record(t.writer, run.id, {});
    const before = await rowCounts(ledger);
    const cases: { field: string; call: () => Promise<unknown> }[] = [
      { field: "conversation_id", call: () => ledger.runs.create(t.writer, { agent_id: agent.id, conversation_id: "a\0b" }) },
      { field: "metadata.note", call: () => ledger.runs.create(t.writer, { agent_id: agent.id, metadata: { note: "x\0" } }) },
      { field: "metadata", call: () => ledger.runs.create(t.writer, { agent_id: agent.id, metadata: { "k\0": 1 } }) },
      { field: "tags.1", call: () => ledger.runs.create(t.writer, { agent_id: agent.id, tags: ["ok", "\0"] }) },
      { field: "idempotency_key", call: () => ledger.runs.createOrReplay(t.writer, { agent_id: agent.id, idempotency_key: "k\0" }) },
      { field: "metadata.deep.0", call: () => ledger.runs.update(t.writer, run.id, { metadata: { deep: ["\0"] } }) },
      { field: "error.message", call: () => ledger.runs.update(t.writer, run.id, { status: "failed", error: { type: "E", message: "boom\0" } }) },
      { field: "model", call: () => ledger.steps.record(t.writer, run.id, { model: "gpt\0" }) },
      { field: "trace_id", call: () => ledger.steps.finish(t.writer, run.id, step.id, { status: "success", trace_id: "\0" }) },
      { field: "tags.0", call: () => ledger.steps.setFeedback(t.writer, step.id, { tags: ["\0"] }) },
      { field: "messages.0.content", call: () => ledger.messages.append(t.writer, run.id, [{ message_type: "assistant_message", content: "hi\0" }]) },
      { field: "chunks.0.content", call: () => ledger.feeds.appendChunks(t.writer, run.id, [{ message_type: "assistant_message", content: "\0" }]) },
      { field: "name", call: () => ledger.agents.create(t.writer, { name: "bot\0" }) },
      { field: "metadata.a", call: () => ledger.agents.update(t.writer, agent.id, { metadata: { a: "\0" } }) },
      { field: "name", call: () => ledger.apiKeys.create(t.admin, { name: "\0" }) },
      { field: "name", call: () => ledger.organizations.createTrusted("org\0") },
      { field: "tags.0", call: () => ledger.runs.list(t.reader, { tags: ["\0"] }) },
      { field: "model", call: () => ledger.steps.list(t.reader, { model: "\0" }) },
    ];
    for (const { field, call } of cases) {
      const error = await call().catch((e: unknown) => e);
      expect(error, field).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message, field).toBe(`${field} ${field === "metadata" ? "has a key holding" : "holds"} a NUL character (\\u0000); remove it`);
    }
    expect(await rowCounts(ledger)).toEqual(before);
  });

  it("refuses metadata nested past 64 levels, however deep, and cyclic metadata, writing nothing", async () => {
    const { ledger } = world();
    const t = await world().tenant();
    const agent = await t.agent();
    const run = await t.run({ agentId: agent.id, status: "running" });
    const before = await rowCounts(ledger);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    // The input is level 1 and metadata level 2, so 62 more levels are the most allowed.
    for (const metadata of [{ x: nested(63) }, { x: nested(100_000) }, cyclic]) {
      for (const call of [
        () => ledger.runs.create(t.writer, { agent_id: agent.id, metadata: metadata as never }),
        () => ledger.runs.update(t.writer, run.id, { metadata: metadata as never }),
        () => ledger.agents.create(t.writer, { name: "deep", metadata: metadata as never }),
        () => ledger.messages.append(t.writer, run.id, [{ message_type: "assistant_message", content: "x", extra: metadata }]),
      ]) {
        const error = await call().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidArgumentError);
        expect((error as Error).message).toMatch(/^(metadata|messages) nests objects and arrays deeper than 64 levels$/);
      }
    }
    expect(await rowCounts(ledger)).toEqual(before);
    const fine = await ledger.runs.create(t.writer, { agent_id: agent.id, metadata: { x: nested(62) as never } });
    expect(JSON.stringify(fine.metadata)).toBe(JSON.stringify({ x: nested(62) }));
  });
});
