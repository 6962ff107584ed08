/**
 * Every route, driven from the OpenAPI document, with malformed JSON, wrong types, unknown
 * and missing fields, bad ids, bad enum values, out-of-range limits and oversized bodies.
 * Each must answer 4xx with a message that says what to fix — never 5xx — and write nothing.
 */
import { beforeAll, expect, it } from "vitest";
import { forEachServer, type HttpTenant, type HttpWorld } from "../support/server.js";

type Schema = { type?: string | string[]; anyOf?: Schema[]; enum?: unknown[]; properties?: Record<string, Schema>; required?: string[]; items?: Schema; minimum?: number; maximum?: number };
type Operation = { parameters?: { name: string; in: string; schema: Schema }[]; requestBody?: { content: { "application/json": { schema: Schema } } } };

const TABLES = ["organizations", "agents", "runs", "run_metrics", "steps", "messages", "run_events"];

async function snapshot(world: HttpWorld): Promise<string> {
  const parts: unknown[] = [];
  for (const table of TABLES) parts.push(await world.ledger.store.driver.all(`SELECT * FROM ${table} ORDER BY 1, 2`));
  parts.push(await world.ledger.store.driver.all("SELECT id, revoked_at FROM api_keys ORDER BY id"));
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
  if (base.type === "integer") return base.maximum !== undefined ? String(base.maximum + 1) : "not-a-number";
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

  async function expectClientError(label: string, response: { statusCode: number; body: string }) {
    expect(response.statusCode, `${label}: ${response.body}`).toBeGreaterThanOrEqual(400);
    expect(response.statusCode, `${label}: ${response.body}`).toBeLessThan(500);
    const body = JSON.parse(response.body) as { detail: string; code: string };
    expect(typeof body.code, label).toBe("string");
    expect(body.detail.length, label).toBeGreaterThan(10);
  }

  it("rejects malformed path ids with 400 naming the format, and unknown ids with 404", async () => {
    const { call } = world();
    for (const { method, path } of operations.filter((o) => /\{(run|step|agent|key)_id\}/.test(o.path))) {
      for (const name of ["run_id", "step_id", "agent_id", "key_id"]) {
        if (!path.includes(`{${name}}`)) continue;
        const bad = await call(t.adminKey, { method: method as never, url: url(path, { [name]: "nope-123" }), payload: method === "GET" || method === "DELETE" ? undefined : {} });
        await expectClientError(`${method} ${path} bad ${name}`, bad);
        if (bad.statusCode !== 422) expect(bad.json().detail, `${method} ${path}`).toMatch(/uuid v4/i);
        const prefix = name.replace("_id", "");
        const unknown = await call(t.adminKey, {
          method: method as never,
          url: url(path, { [name]: `${prefix}-00000000-0000-4000-8000-000000000000` }),
          payload: method === "GET" || method === "DELETE" ? undefined : {},
        });
        await expectClientError(`${method} ${path} unknown ${name}`, unknown);
      }
    }
  });

  it("rejects malformed JSON, non-object bodies, unknown fields, wrong types and oversized bodies", async () => {
    const { call } = world();
    for (const { method, path, operation } of operations.filter((o) => o.operation.requestBody)) {
      const schema = operation.requestBody!.content["application/json"].schema;
      const target = { method: method as never, url: url(path), headers: { "content-type": "application/json" } };
      await expectClientError(`${method} ${path} malformed`, await call(t.adminKey, { ...target, payload: '{"agent_id": ' }));
      await expectClientError(`${method} ${path} array`, await call(t.adminKey, { ...target, payload: "[1, 2]" }));
      await expectClientError(`${method} ${path} number`, await call(t.adminKey, { ...target, payload: "42" }));
      await expectClientError(`${method} ${path} unknown field`, await call(t.adminKey, { ...target, payload: { zzz_unknown_field: 1 } }));
      const big = await call(t.adminKey, { ...target, payload: JSON.stringify({ metadata: { blob: "x".repeat(3 * 1024 * 1024) } }) });
      expect(big.statusCode, `${method} ${path} oversized`).toBe(413);
      const object = schema.anyOf?.find((s) => s.type === "object") ?? schema;
      for (const [field, fieldSchema] of Object.entries(object.properties ?? {})) {
        const value = wrongValue(fieldSchema);
        if (value === undefined) continue;
        const response = await call(t.adminKey, { ...target, payload: { [field]: value } });
        await expectClientError(`${method} ${path} ${field}=${JSON.stringify(value)}`, response);
        if (response.statusCode === 422) expect(response.json().problems.join(" "), `${method} ${path} ${field}`).toContain(field);
      }
      for (const field of object.required ?? []) {
        const response = await call(t.adminKey, { ...target, payload: {} });
        await expectClientError(`${method} ${path} missing ${field}`, response);
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
        await expectClientError(`${method} ${path}?${parameter.name}=${value}`, response);
        expect(response.json().detail, `${method} ${path}?${parameter.name}`).toContain(parameter.name);
      }
      await expectClientError(`${method} ${path}?zzz`, await call(t.adminKey, { method: method as never, url: `${url(path)}?zzz_unknown=1` }));
      if (operation.parameters!.some((p) => p.name === "limit")) {
        await expectClientError(`${method} ${path}?limit=0`, await call(t.adminKey, { method: method as never, url: `${url(path)}?limit=0` }));
      }
      if (operation.parameters!.some((p) => p.name === "after")) {
        const unknown = await call(t.adminKey, { method: method as never, url: `${url(path)}?after=run-00000000-0000-4000-8000-000000000000` });
        await expectClientError(`${method} ${path}?after=unknown`, unknown);
      }
    }
  });

  it("wrote nothing while rejecting all of that", async () => {
    expect(await snapshot(world())).toBe(before);
  });
});
