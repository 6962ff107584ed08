/**
 * Input built to break a server: NUL characters, bytes that are not UTF-8, documents nested
 * thousands deep, headers and bodies past the limits, path traversal and SQL
 * metacharacters. Each gets a 4xx that says what is wrong, and nothing is written; what is
 * merely unusual (unicode in tags and metadata, quotes) is stored and read back exactly.
 */
import { beforeAll, expect, it } from "vitest";
import { storeOf } from "../../src/store/store.js";
import { rowCounts } from "../support/row-counts.js";
import { forEachServer, type HttpTenant } from "../support/server.js";

forEachServer("hostile input", (world) => {
  let t: HttpTenant;
  let agentId: string;
  beforeAll(async () => {
    t = await world().tenant();
    agentId = await t.agent();
  });
  const runCount = async () => ((await storeOf(world().ledger).driver.all("SELECT count(*) AS n FROM runs")) as { n: number | string }[])[0]!.n;
  const post = (url: string, payload: string | Buffer) =>
    world().call(t.writeKey, { method: "POST", url, payload, headers: { "content-type": "application/json" } });

  it("refuses NUL characters in bodies and query strings with 400, writing nothing", async () => {
    const before = await runCount();
    for (const body of [
      `{"agent_id":"${agentId}","metadata":{"note":"a\\u0000b"}}`,
      `{"agent_id":"${agentId}","metadata":{"a\\u0000":1}}`,
      `{"agent_id":"${agentId}","tags":["x\\u0000"]}`,
    ]) {
      const response = await post("/v1/runs", body);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().detail).toContain("NUL");
    }
    const agent = await post("/v1/agents", '{"name":"a\\u0000b"}');
    expect(agent.statusCode).toBe(400);
    const query = await world().call(t.readKey, { method: "GET", url: "/v1/runs/?tags=%00" });
    expect(query.statusCode).toBe(400);
    expect(query.json().detail).toContain("tags");
    // A backslash before "u0000" is text, not a NUL, and is kept.
    const literal = await post("/v1/runs", `{"agent_id":"${agentId}","metadata":{"note":"\\\\u0000"}}`);
    expect(literal.statusCode, literal.body).toBe(201);
    expect(literal.json().metadata.note).toBe("\\u0000");
    expect(Number(await runCount())).toBe(Number(before) + 1);
  });

  it("refuses bodies that are not UTF-8, and documents nested too deep, with 400", async () => {
    const before = await runCount();
    const invalid = await post("/v1/agents", Buffer.from([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().detail).toContain("UTF-8");
    for (const depth of [65, 100_000]) {
      const deep = await post("/v1/runs", `{"agent_id":"${agentId}","metadata":{"x":${"[".repeat(depth)}${"]".repeat(depth)}}}`);
      expect(deep.statusCode, deep.body.slice(0, 200)).toBe(400);
      expect(deep.json().detail).toContain("deeper than 64");
    }
    const fine = await post("/v1/runs", `{"agent_id":"${agentId}","metadata":{"x":${"[".repeat(30)}${"]".repeat(30)}}}`);
    expect(fine.statusCode).toBe(201);
    expect(Number(await runCount())).toBe(Number(before) + 1);
  });

  it("answers a 10 MB body with 413 and an oversized header with 431, over a real socket", async () => {
    const big = await fetch(`${world().baseUrl}/v1/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.writeKey}`, "content-type": "application/json" },
      body: `{"agent_id":"${agentId}","metadata":{"x":"${"a".repeat(10 * 1024 * 1024)}"}}`,
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { detail: string }).detail).toContain(`limit of ${2 * 1024 * 1024} bytes`);
    const header = await fetch(`${world().baseUrl}/v1/runs/`, { headers: { authorization: `Bearer ${t.readKey}`, "x-padding": "a".repeat(64 * 1024) } });
    expect(header.status).toBe(431);
  });

  it("refuses numbers past what JSON or a column holds, router-level bad paths and NUL in ignored stream fields with a problem body, writing nothing", async () => {
    const run = (await post("/v1/runs", JSON.stringify({ agent_id: agentId }))).json() as { id: string };
    await world().call(t.writeKey, { method: "PATCH", url: `/v1/runs/${run.id}`, payload: { status: "running" } });
    const before = await rowCounts(world().ledger);
    const refusals: { label: string; method: string; url: string; payload?: string; status: number; names: string }[] = [
      // JSON.parse reads 1e400 as Infinity: it passed the integer check and failed in the database (500).
      { label: "Infinity tokens", method: "POST", url: `/v1/runs/${run.id}/steps`, payload: '{"prompt_tokens":1e400}', status: 422, names: "prompt_tokens" },
      { label: "tokens past a bigint", method: "POST", url: `/v1/runs/${run.id}/steps`, payload: '{"completion_tokens":1e20}', status: 422, names: "completion_tokens" },
      { label: "a context window past an integer", method: "POST", url: `/v1/runs/${run.id}/steps`, payload: '{"context_window_limit":3000000000}', status: 422, names: "context_window_limit" },
      { label: "Infinity ttft", method: "PATCH", url: `/v1/runs/${run.id}`, payload: '{"ttft_ns":1e400}', status: 422, names: "ttft_ns" },
      { label: "Infinity in metadata", method: "POST", url: "/v1/runs", payload: `{"agent_id":"${agentId}","metadata":{"n":-1e400}}`, status: 400, names: "metadata.n" },
      // An int4 comparison on PostgreSQL (500).
      { label: "a step count past an integer", method: "GET", url: "/v1/runs/?step_count=3000000000", status: 422, names: "step_count" },
      { label: "Infinity step count in statistics", method: "GET", url: "/v1/runs/stats?step_count=1e400", status: 422, names: "step_count" },
      { label: "Infinity audit cursor", method: "GET", url: "/v1/audit-log?before=1e400", status: 422, names: "before" },
      { label: "Infinity event cursor", method: "GET", url: `/v1/runs/${run.id}/events?after=1e400`, status: 422, names: "after" },
      { label: "a long malformed id", method: "GET", url: `/v1/runs/run-${"a".repeat(300)}`, status: 400, names: "run_id" },
      // Fastify's router answered these itself, in its own body shape.
      { label: "an id longer than any path segment", method: "GET", url: `/v1/runs/${"a".repeat(3000)}`, status: 414, names: "longer than" },
      { label: "overlong UTF-8 in the path", method: "DELETE", url: "/v1/runs/%c0%ae%c0%ae%2f", status: 400, names: "UTF-8" },
      // The stream's agent_id, otid and run_id are ignored, and reached no input check.
      { label: "NUL in an ignored stream field", method: "POST", url: `/v1/runs/${run.id}/stream`, payload: '{"otid":"a\\u0000"}', status: 400, names: "otid" },
    ];
    for (const { label, method, url, payload, status, names } of refusals) {
      const key = url.startsWith("/v1/audit-log") ? t.adminKey : t.writeKey;
      const response = await world().call(key, { method: method as never, url, ...(payload === undefined ? {} : { payload, headers: { "content-type": "application/json" } }) });
      expect(response.statusCode, `${label}: ${response.body.slice(0, 300)}`).toBe(status);
      const body = response.json() as { detail: string; code: string; problems?: string[] };
      expect(body.code, label).toEqual(expect.any(String));
      expect([body.detail, ...(body.problems ?? [])].join(" "), label).toContain(names);
    }
    expect(await rowCounts(world().ledger)).toEqual(before);
  });

  it("treats path traversal and SQL metacharacters as data: a clear 4xx or stored exactly", async () => {
    for (const path of ["/v1/runs/..%2F..%2Fetc%2Fpasswd", "/v1/runs/run-'%20OR%201=1--", "/v1/agents/%2e%2e"]) {
      const response = await world().call(t.readKey, { method: "GET", url: path });
      expect([400, 404], `${path}: ${response.body}`).toContain(response.statusCode);
      expect(response.json().detail).toEqual(expect.any(String));
    }
    const strange = ["'; DROP TABLE runs; --", "\" OR \"1\"=\"1", "../../etc/passwd", "Ünïcødé 🚀 标签", "\\", "%00"];
    const created = await post("/v1/runs", JSON.stringify({ agent_id: agentId, tags: strange, metadata: Object.fromEntries(strange.map((s, i) => [s, i])) }));
    expect(created.statusCode, created.body).toBe(201);
    const read = await world().call(t.readKey, { method: "GET", url: `/v1/runs/${created.json().id}` });
    expect(read.json().tags).toEqual(strange);
    // Key order is not kept (PostgreSQL's jsonb orders keys); keys and values are.
    expect(read.json().metadata).toEqual(Object.fromEntries(strange.map((s, i) => [s, i])));
    const byTag = await world().call(t.readKey, { method: "GET", url: `/v1/runs/?tags=${encodeURIComponent(strange[0]!)}&tags=${encodeURIComponent(strange[3]!)}` });
    expect(byTag.json().map((r: { id: string }) => r.id)).toEqual([created.json().id]);
  });
});
