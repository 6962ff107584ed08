/**
 * Text is data: SQL metacharacters, traversal sequences, emoji and other astral characters,
 * right-to-left text, combining marks, NFC and NFD spellings of the same letter. Every string
 * field keeps them exactly as sent through create → get → list, and every filter on them
 * matches exactly that text — no normalization, no LIKE wildcards, no escaping leaks.
 */
import { beforeAll, expect, it } from "vitest";
import { forEachServer, type HttpTenant } from "../support/server.js";

const TEXTS = [
  "'; DROP TABLE runs; --",
  '" OR "1"="1',
  "100% _match_ \\ /* */ ?",
  "$1 :name @p0",
  "../../etc/passwd",
  "%2e%2e%2f",
  "🚀 launch 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
  "שלום עולם \u202eevil",
  "Z\u0351\u0354a\u0313l\u0339g\u0315o",
  "caf\u00e9", // NFC
  "cafe\u0301", // NFD: the same word, spelled differently
  "👩‍👩‍👧 \u200b\ufeff",
];

forEachServer("text round trip", (world) => {
  let t: HttpTenant;
  const made: { text: string; agent: string; run: string; step: string }[] = [];
  const ok = async (key: string, method: string, url: string, payload?: object) => {
    const response = await world().call(key, { method: method as never, url, ...(payload === undefined ? {} : { payload }) });
    expect(response.statusCode, `${method} ${url}: ${response.body.slice(0, 300)}`).toBeLessThan(300);
    return response.json() as Record<string, unknown> & { id: string };
  };
  const query = (name: string, text: string) => `${name}=${encodeURIComponent(text)}`;

  beforeAll(async () => {
    t = await world().tenant();
    for (const text of TEXTS) {
      const agent = await ok(t.writeKey, "POST", "/v1/agents", { name: text, metadata: { [text]: text } });
      const run = await ok(t.writeKey, "POST", "/v1/runs", {
        agent_id: agent.id,
        conversation_id: text,
        project_id: text,
        base_template_id: text,
        idempotency_key: text,
        tags: [text],
        metadata: { [text]: text, list: [text] },
        request_config: { prompt: text },
      });
      const step = await ok(t.writeKey, "POST", `/v1/runs/${run.id}/steps`, { model: text, provider_name: text, trace_id: text, tags: [text] });
      await ok(t.writeKey, "POST", `/v1/runs/${run.id}/messages`, { messages: [{ message_type: "assistant_message", content: text }] });
      made.push({ text, agent: agent.id, run: run.id, step: step.id });
    }
  });

  it("keeps every string field exactly as sent", async () => {
    for (const { text, agent, run, step } of made) {
      const gotRun = await ok(t.readKey, "GET", `/v1/runs/${run}`);
      expect(gotRun).toMatchObject({ conversation_id: text, project_id: text, base_template_id: text, tags: [text], metadata: { [text]: text, list: [text] }, request_config: { prompt: text } });
      const gotAgent = await ok(t.readKey, "GET", `/v1/agents/${agent}`);
      expect(gotAgent).toMatchObject({ name: text, metadata: { [text]: text } });
      expect(await ok(t.readKey, "GET", `/v1/steps/${step}`)).toMatchObject({ model: text, provider_name: text, trace_id: text, tags: [text] });
      const messages = (await ok(t.readKey, "GET", `/v1/runs/${run}/messages`)) as unknown as { content: string }[];
      expect(messages.map((m) => m.content)).toEqual([text]);
      // The same idempotency key finds the same run.
      const replay = await world().call(t.writeKey, { method: "POST", url: "/v1/runs", payload: { agent_id: agent, conversation_id: text, project_id: text, base_template_id: text, idempotency_key: text, tags: [text], metadata: { [text]: text, list: [text] }, request_config: { prompt: text } } });
      expect(replay.statusCode, replay.body).toBe(200);
      expect(replay.json().id).toBe(run);
    }
  });

  it("filters on each text match exactly the rows that carry it, telling NFC from NFD", async () => {
    const ids = (rows: unknown) => (rows as { id: string }[]).map((r) => r.id);
    for (const { text, agent, run, step } of made) {
      for (const filter of ["conversation_id", "project_id", "tags"]) {
        expect(ids(await ok(t.readKey, "GET", `/v1/runs/?${query(filter, text)}`)), `${filter} ${text}`).toEqual([run]);
      }
      for (const filter of ["model", "trace_ids", "tags"]) {
        expect(ids(await ok(t.readKey, "GET", `/v1/steps/?${query(filter, text)}`)), `${filter} ${text}`).toEqual([step]);
      }
      expect(ids(await ok(t.readKey, "GET", `/v1/agents/?${query("name", text)}`)), `agent name ${text}`).toEqual([agent]);
      const stats = await ok(t.readKey, "GET", `/v1/runs/stats?${query("tags", text)}`);
      expect((stats.summary as { runs: number }).runs, `stats tags ${text}`).toBe(1);
      const dryRun = await ok(t.writeKey, "POST", "/v1/runs/bulk/cancel", { project_id: text, dry_run: true });
      expect(dryRun.matched, `bulk project_id ${text}`).toBe(1);
    }
  });
});
