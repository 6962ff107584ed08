/**
 * Every route, driven from the OpenAPI document, with malformed JSON, wrong types, unknown
 * and missing fields, bad ids, bad enum values, out-of-range limits and oversized bodies.
 * Each must answer its documented status with a message that says what to fix — 400 for a
 * malformed id, JSON or cursor, 404 for an unknown id, 413 for a body too large, 422 for
 * anything its schema refuses — and write nothing. A library caller making the same mistake
 * gets the same error.
 */
import { beforeAll, expect, it } from "vitest";
import type { Actor } from "../../src/core/model.js";
import { forEachServer, type HttpTenant, type HttpWorld } from "../support/server.js";
import { storeOf } from "../../src/store/store.js";

type Schema = { type?: string | string[]; anyOf?: Schema[]; enum?: unknown[]; properties?: Record<string, Schema>; required?: string[]; items?: Schema; minimum?: number; maximum?: number };
type Operation = { parameters?: { name: string; in: string; schema: Schema }[]; requestBody?: { content: { "application/json": { schema: Schema } } } };

/** Routes whose body has required fields: a valid body, so that what is tested is the path. */
const VALID_BODIES: Record<string, unknown> = {
  "PATCH /v1/runs/{run_id}/steps/{step_id}": { status: "success" },
  "POST /v1/runs/{run_id}/messages": { messages: [{ message_type: "user_message", content: "hi" }] },
  "POST /v1/runs/{run_id}/events": { chunks: [{ message_type: "assistant_message", content: "h" }] },
};

const TABLES = ["organizations", "agents", "runs", "run_metrics", "steps", "messages", "run_events"];

async function snapshot(world: HttpWorld): Promise<string> {
  const parts: unknown[] = [];
  for (const table of TABLES) parts.push(await storeOf(world.ledger).driver.all(`SELECT * FROM ${table} ORDER BY 1, 2`));
  parts.push(await storeOf(world.ledger).driver.all("SELECT id, revoked_at FROM api_keys ORDER BY id"));
  return JSON.stringify(parts);
}

/** A value of the wrong type for `schema`, or undefined when any value is acceptable. */
function wrongValue(schema: Schema): unknown {
  const base = schema.anyOf?.find((s) => s.type !== "null") ?? schema;
  if (base.enum) return "definitely-not-a-valid-value";
  switch (base.type) {
    case "string":
      return 12345;
    case "integer":
    case "number":
      return "not a number";
    case "boolean":
      return "maybe";
    case "object":
      return "not an object";
    case "array":
      return "not an array";
    default:
      return undefined;
  }
}

/** A query-string value that fails `schema`, or undefined for free-form strings. */
function wrongQueryValue(schema: Schema): string | undefined {
  const base = schema.anyOf?.find((s) => s.type !== "null") ?? schema;
  if (base.enum || base.items?.enum) return "definitely-not-a-valid-value";
  // Past 2^53 adding one is lost in rounding; twice the maximum is past it.
  if (base.type === "integer") return base.maximum !== undefined ? String(base.maximum + 1 > base.maximum ? base.maximum + 1 : base.maximum * 2) : "not-a-number";
  if (base.type === "boolean") return "maybe";
  return undefined;
}

forEachServer("bad input on every route", (world) => {
  let t: HttpTenant;
  let ids: Record<string, string>;
  let before: string;
  let operations: { method: string; path: string; operation: Operation }[];

  beforeAll(async () => {
    t = await world().tenant();
    const { call } = world();
    const agent = await t.agent();
    const run = (await call(t.writeKey, { method: "POST", url: "/v1/runs", payload: { agent_id: agent } })).json();
    await call(t.writeKey, { method: "PATCH", url: `/v1/runs/${run.id}`, payload: { status: "running" } });
    const step = (await call(t.writeKey, { method: "POST", url: `/v1/runs/${run.id}/steps`, payload: {} })).json();
    const key = (await call(t.adminKey, { method: "POST", url: "/v1/api-keys", payload: { role: "read" } })).json();
    ids = { run_id: run.id, step_id: step.id, agent_id: agent, key_id: key.id };
    const doc = (await call(undefined, { method: "GET", url: "/openapi.json" })).json() as { paths: Record<string, Record<string, Operation>> };
    operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
    );
    expect(operations.length).toBeGreaterThan(25);
    before = await snapshot(world());
  });

  function url(path: string, override: Record<string, string> = {}): string {
    return path.replace(/\{(\w+)\}/g, (_, name: string) => override[name] ?? ids[name] ?? "x");
  }

  async function expectError(label: string, response: { statusCode: number; body: string }, status: number, code: string) {
    expect(response.statusCode, `${label}: ${response.body}`).toBe(status);
    const body = JSON.parse(response.body) as { detail: string; code: string; problems?: string[] };
    expect(body.code, label).toBe(code);
    expect(body.detail.length, label).toBeGreaterThan(10);
    if (status === 422) expect(body.problems?.length, label).toBeGreaterThan(0);
  }
  const invalid = (label: string, response: { statusCode: number; body: string }) => expectError(label, response, 422, "VALIDATION_ERROR");

  it("rejects malformed path ids with 400 naming the format, and unknown ids with 404", async () => {
    const { call } = world();
    for (const { method, path } of operations.filter((o) => /\{(run|step|agent|key)_id\}/.test(o.path))) {
      const payload = method === "GET" || method === "DELETE" ? undefined : (VALID_BODIES[`${method} ${path}`] ?? {});
      for (const name of ["run_id", "step_id", "agent_id", "key_id"]) {
        if (!path.includes(`{${name}}`)) continue;
        const bad = await call(t.adminKey, { method: method as never, url: url(path, { [name]: "nope-123" }), payload });
        await expectError(`${method} ${path} bad ${name}`, bad, 400, "INVALID_ARGUMENT");
        expect(bad.json().detail, `${method} ${path}`).toMatch(/uuid v4/i);
        const prefix = name.replace("_id", "");
        const unknown = await call(t.adminKey, { method: method as never, url: url(path, { [name]: `${prefix}-00000000-0000-4000-8000-000000000000` }), payload });
        await expectError(`${method} ${path} unknown ${name}`, unknown, 404, "NOT_FOUND");
      }
    }
  });

  it("rejects malformed JSON, non-object bodies, unknown fields, wrong types and oversized bodies", async () => {
    const { call } = world();
    for (const { method, path, operation } of operations.filter((o) => o.operation.requestBody)) {
      const schema = operation.requestBody!.content["application/json"].schema;
      const target = { method: method as never, url: url(path), headers: { "content-type": "application/json" } };
      await expectError(`${method} ${path} malformed`, await call(t.adminKey, { ...target, payload: '{"agent_id": ' }), 400, "MALFORMED_JSON");
      await invalid(`${method} ${path} array`, await call(t.adminKey, { ...target, payload: "[1, 2]" }));
      await invalid(`${method} ${path} number`, await call(t.adminKey, { ...target, payload: "42" }));
      await invalid(`${method} ${path} unknown field`, await call(t.adminKey, { ...target, payload: { zzz_unknown_field: 1 } }));
      const big = await call(t.adminKey, { ...target, payload: JSON.stringify({ metadata: { blob: "x".repeat(3 * 1024 * 1024) } }) });
      expect(big.statusCode, `${method} ${path} oversized`).toBe(413);
      const object = schema.anyOf?.find((s) => s.type === "object") ?? schema;
      for (const [field, fieldSchema] of Object.entries(object.properties ?? {})) {
        const value = wrongValue(fieldSchema);
        if (value === undefined) continue;
        const response = await call(t.adminKey, { ...target, payload: { [field]: value } });
        await invalid(`${method} ${path} ${field}=${JSON.stringify(value)}`, response);
        expect(response.json().problems.join(" "), `${method} ${path} ${field}`).toContain(field);
      }
      for (const field of object.required ?? []) {
        const response = await call(t.adminKey, { ...target, payload: {} });
        await invalid(`${method} ${path} missing ${field}`, response);
        expect(response.json().detail, `${method} ${path} missing ${field}`).toContain(field);
      }
    }
  });

  it("rejects bad enum values, out-of-range limits, wrong types and unknown parameters in query strings", async () => {
    const { call } = world();
    for (const { method, path, operation } of operations.filter((o) => o.operation.parameters?.some((p) => p.in === "query"))) {
      for (const parameter of operation.parameters!.filter((p) => p.in === "query")) {
        const value = wrongQueryValue(parameter.schema);
        if (value === undefined) continue;
        const response = await call(t.adminKey, { method: method as never, url: `${url(path)}?${parameter.name}=${encodeURIComponent(value)}` });
        await invalid(`${method} ${path}?${parameter.name}=${value}`, response);
        expect(response.json().detail, `${method} ${path}?${parameter.name}`).toContain(parameter.name);
      }
      await invalid(`${method} ${path}?zzz`, await call(t.adminKey, { method: method as never, url: `${url(path)}?zzz_unknown=1` }));
      if (operation.parameters!.some((p) => p.name === "limit")) {
        await invalid(`${method} ${path}?limit=0`, await call(t.adminKey, { method: method as never, url: `${url(path)}?limit=0` }));
      }
      const after = operation.parameters!.find((p) => p.name === "after");
      if (after !== undefined) {
        const unknown = await call(t.adminKey, { method: method as never, url: `${url(path)}?after=run-00000000-0000-4000-8000-000000000000` });
        // An event position is a number, so an id is refused by the schema; an id cursor must name an item.
        if (after.schema.type === "integer") await invalid(`${method} ${path}?after=unknown`, unknown);
        else await expectError(`${method} ${path}?after=unknown`, unknown, 400, "INVALID_ARGUMENT");
      }
    }
  });

  it("gives a library caller the same error as an HTTP client for the same mistake", async () => {
    const { call, ledger } = world();
    const writer: Actor = { organization_id: t.orgId, role: "write" };
    const agent = ids.agent_id!;
    const cases: { label: string; request: Parameters<typeof call>[1]; inProcess: () => Promise<unknown> }[] = [
      {
        label: "ttl_s below its range",
        request: { method: "POST", url: "/v1/runs", payload: { agent_id: agent, ttl_s: 0 } },
        inProcess: () => ledger.runs.create(writer, { agent_id: agent, ttl_s: 0 }),
      },
      {
        label: "ttl_s above a week",
        request: { method: "POST", url: "/v1/runs", payload: { agent_id: agent, ttl_s: 7 * 86_400 + 1 } },
        inProcess: () => ledger.runs.create(writer, { agent_id: agent, ttl_s: 7 * 86_400 + 1 }),
      },
      {
        label: "an unknown field",
        request: { method: "POST", url: "/v1/runs", payload: { agent_id: agent, colour: "blue" } },
        inProcess: () => ledger.runs.create(writer, { agent_id: agent, colour: "blue" } as never),
      },
      {
        label: "a step status that does not exist",
        request: { method: "POST", url: `/v1/runs/${ids.run_id}/steps`, payload: { status: "done" } },
        inProcess: () => ledger.steps.record(writer, ids.run_id!, { status: "done" as never }),
      },
      {
        label: "finishing a step without a status",
        request: { method: "PATCH", url: `/v1/runs/${ids.run_id}/steps/${ids.step_id}`, payload: {} },
        inProcess: () => ledger.steps.finish(writer, ids.run_id!, ids.step_id!, {} as never),
      },
      {
        label: "a page size of 0",
        request: { method: "GET", url: "/v1/runs/?limit=0" },
        inProcess: () => ledger.runs.list(writer, { limit: 0 }),
      },
      {
        label: "statistics grouped by something else",
        request: { method: "GET", url: "/v1/runs/stats?group_by=colour" },
        inProcess: () => ledger.stats.stats(writer, { group_by: "colour" as never }),
      },
      {
        label: "an event kind that does not exist",
        request: { method: "GET", url: `/v1/runs/${ids.run_id}/events?kinds=gossip` },
        inProcess: () => ledger.feeds.followRun(writer, ids.run_id!, 0, { signal: AbortSignal.timeout(5_000), kinds: ["gossip" as never] }),
      },
    ];
    for (const { label, request, inProcess } of cases) {
      const response = await call(t.writeKey, request);
      await invalid(label, response);
      const { detail, code, problems } = response.json() as { detail: string; code: string; problems: string[] };
      await expect(inProcess(), label).rejects.toMatchObject({ code, message: detail, problems });
    }
  });

  it("wrote nothing while rejecting all of that", async () => {
    expect(await snapshot(world())).toBe(before);
  });
});
