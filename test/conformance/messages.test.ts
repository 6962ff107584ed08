import { expect, it } from "vitest";
import { ValidationError } from "../../src/core/errors.js";
import { forEachBackend } from "../support/fixtures.js";
import { storeOf } from "../../src/store/store.js";

const conversation = [
  { message_type: "user_message", content: "what's the weather?" },
  { message_type: "reasoning_message", reasoning: "I should call the weather tool" },
  { message_type: "tool_call_message", tool_call: { name: "get_weather", arguments: "{\"city\":\"Oslo\"}", tool_call_id: "call-1" } },
  { message_type: "tool_return_message", tool_return: "3°C", tool_call_id: "call-1", status: "success" },
  { message_type: "assistant_message", content: [{ type: "text", text: "It is 3°C in Oslo." }] },
];

forEachBackend("messages", (world) => {
  it("appends a batch in order with server-assigned ids, seq_ids, dates and run ids", async () => {
    const t = await world().tenant();
    const run = await t.run({ status: "running" });
    const ledger = world().ledger;
    const step = await ledger.steps.record(t.writer, run.id, {});
    const stored = await ledger.messages.append(t.writer, run.id, conversation.map((m) => ({ ...m, step_id: step.id })));
    expect(stored.map((m) => m.message_type)).toEqual(conversation.map((m) => m.message_type));
    for (const m of stored) {
      expect(m.id).toMatch(/^message-/);
      expect(m.run_id).toBe(run.id);
      expect(m.step_id).toBe(step.id);
      expect(m.date).toMatch(/Z$/);
    }
    const seqs = stored.map((m) => m.seq_id);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(await ledger.messages.list(t.reader, run.id)).toEqual(stored);
    expect((await ledger.runs.metrics(t.reader, run.id)).tools_used).toEqual(["get_weather"]);
    const events = await storeOf(ledger).read.events.list(t.orgId, run.id, 0, 100);
    expect(events.filter((e) => e.kind === "message").map((e) => e.seq_id)).toEqual(seqs);
  });

  it("lists with cursors, order and message types", async () => {
    const t = await world().tenant();
    const run = await t.run({ status: "running" });
    const ledger = world().ledger;
    const stored = [
      ...(await ledger.messages.append(t.writer, run.id, conversation)),
      ...(await ledger.messages.append(t.writer, run.id, conversation)),
    ];
    const ids = stored.map((m) => m.id);
    const list = async (q: object) => (await ledger.messages.list(t.reader, run.id, q)).map((m) => m.id);
    expect(await list({ order: "desc" })).toEqual([...ids].reverse());
    expect(await list({ limit: 3, after: ids[2] })).toEqual(ids.slice(3, 6));
    expect(await list({ limit: 3, before: ids[5] })).toEqual(ids.slice(2, 5));
    expect(await list({ order: "desc", limit: 2, after: ids[5] })).toEqual([ids[4], ids[3]]);
    expect(await list({ after: ids[1], before: ids[6] })).toEqual(ids.slice(2, 6));
    expect(await list({ order: "desc", after: ids[6], before: ids[1] })).toEqual(ids.slice(2, 6).reverse());
    expect(await list({ message_types: ["tool_call_message", "assistant_message"] })).toEqual(
      stored.filter((m) => m.message_type === "tool_call_message" || m.message_type === "assistant_message").map((m) => m.id),
    );
    await expect(list({ after: "message-00000000-0000-4000-8000-000000000000" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(list({ message_types: ["shout_message"] as never })).rejects.toMatchObject({ code: "VALIDATION_ERROR" });
  });

  it("validates every message by its type and writes nothing when one is wrong", async () => {
    const t = await world().tenant();
    const run = await t.run({ status: "running" });
    const ledger = world().ledger;
    const fine = { message_type: "user_message", content: "fine" };
    const bad = [fine, { message_type: "tool_call_message" }, { message_type: "tool_return_message", tool_return: "x" }];
    const error = await ledger.messages.append(t.writer, run.id, bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    const problems = (error as ValidationError).problems!;
    expect(problems).toEqual([
      expect.stringMatching(/^messages\.1 needs tool_call/),
      "messages.2.tool_call_id is required and must be a string",
      "messages.2.status must be one of success, error",
    ]);
    const shapes = await ledger.messages.append(t.writer, run.id, [fine, { message_type: "mystery_message" }, "not an object"]).catch((e: unknown) => e);
    expect(shapes).toBeInstanceOf(ValidationError);
    expect((shapes as ValidationError).problems).toEqual([
      expect.stringMatching(/^messages\.1\.message_type must be one of system_message, /),
      "messages.2 must be object",
    ]);
    expect(await ledger.messages.list(t.reader, run.id)).toEqual([]);
    await expect(ledger.messages.append(t.writer, run.id, [])).rejects.toMatchObject({
      code: "VALIDATION_ERROR",
      message: "invalid request: messages must NOT have fewer than 1 items",
    });
    await expect(
      ledger.messages.append(t.writer, run.id, [{ message_type: "user_message", content: "x", step_id: "step-00000000-0000-4000-8000-000000000000" }]),
    ).rejects.toThrow(/not a step of run/);
  });

  it("keeps producer-supplied ids unique and refuses messages once the run has ended", async () => {
    const t = await world().tenant();
    const run = await t.run({ status: "running" });
    const ledger = world().ledger;
    const [first] = await ledger.messages.append(t.writer, run.id, [conversation[0]!]);
    await expect(ledger.messages.append(t.writer, run.id, [{ ...conversation[0]!, id: first!.id }])).rejects.toMatchObject({ code: "CONFLICT" });
    await ledger.runs.update(t.writer, run.id, { status: "completed" });
    await expect(ledger.messages.append(t.writer, run.id, [conversation[0]!])).rejects.toMatchObject({ code: "INVALID_TRANSITION" });
    expect(await ledger.messages.list(t.reader, run.id)).toHaveLength(1);
  });
});
