/**
 * What the isolation matrix needs to call every /v1 route as a real request: fresh resources
 * of one organization, a valid body for each route, the least role each route needs, and a
 * snapshot of the organization's state read through the API.
 */
import type { LightMyRequestResponse } from "fastify";
import type { HttpTenant, HttpWorld } from "./server.js";

export type Method = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
export type Access = "read" | "write" | "admin" | "superuser";
export type Schema = { type?: string | string[]; anyOf?: Schema[]; enum?: unknown[]; properties?: Record<string, Schema>; required?: string[]; items?: Schema };
export type Operation = { parameters?: { name: string; in: string }[]; requestBody?: { content: { "application/json": { schema: Schema } } } };

/** One organization's resources for one request: a fresh agent with a run in the state the route needs. */
export interface Fixture {
  agent_id: string;
  run_id: string;
  step_id: string;
  key_id: string;
  message_id: string;
}

/** The run state a route needs: still running (most writes), or ended (streams end, webhooks exist). */
type RunState = "running" | "ended";

interface Route {
  access?: Access;
  run?: RunState;
  body?: (f: Fixture) => unknown;
  /** Extra query string, e.g. to scope an organization-wide list to the fixture. */
  query?: (f: Fixture) => string;
}

/** Public address literal: saving it needs no DNS, and no dispatcher runs in these tests. */
const CALLBACK_URL = "https://93.184.216.34/hook";

/** Routes whose needs cannot be read off the schema. Anything absent: role from the method, body from the schema. */
export const ROUTES: Record<string, Route> = {
  "POST /v1/runs": { body: (f) => ({ agent_id: f.agent_id }) },
  "PATCH /v1/runs/{run_id}": { body: () => ({ metadata: { touched: true } }) },
  "POST /v1/runs/{run_id}/messages": { body: () => ({ messages: [{ message_type: "assistant_message", content: "hello" }] }) },
  "POST /v1/runs/{run_id}/events": { body: () => ({ chunks: [{ message_type: "assistant_message", content: "he" }] }) },
  "PATCH /v1/runs/{run_id}/steps/{step_id}": { body: () => ({ status: "success" }) },
  "PATCH /v1/steps/{step_id}/feedback": { body: () => ({ feedback: "positive" }) },
  "POST /v1/agents": { body: () => ({ name: "made by the matrix" }) },
  "PATCH /v1/agents/{agent_id}": { body: () => ({ name: "renamed" }) },
  "POST /v1/runs/bulk/cancel": { body: (f) => ({ agent_id: f.agent_id }) },
  "POST /v1/runs/bulk/delete": { body: (f) => ({ agent_id: f.agent_id }) },
  "POST /v1/runs/{run_id}/stream": { access: "read", run: "ended", body: () => ({}) },
  "GET /v1/runs/{run_id}/events": { run: "ended" },
  "POST /v1/runs/{run_id}/callbacks/redeliver": { run: "ended" },
  "GET /v1/runs/": { query: (f) => `?agent_id=${f.agent_id}` },
  "GET /v1/steps/": { query: (f) => `?agent_id=${f.agent_id}` },
  "GET /v1/runs/stats": { query: (f) => `?agent_id=${f.agent_id}` },
  "POST /v1/api-keys": { access: "admin", body: () => ({ role: "read" }) },
  "GET /v1/api-keys": { access: "admin" },
  "DELETE /v1/api-keys/{key_id}": { access: "admin" },
  "GET /v1/audit-log": { access: "admin" },
  "GET /v1/retention-policy": { access: "admin" },
  "PUT /v1/retention-policy": { access: "admin", body: () => ({ terminal_days: 30 }) },
  "GET /v1/webhook-secret": { access: "admin" },
  "POST /v1/webhook-secret/rotate": { access: "admin" },
  "POST /v1/organizations": { access: "superuser", body: () => ({ name: "made by the matrix" }) },
  "GET /v1/organizations": { access: "superuser" },
};

export function accessOf(method: Method, path: string): Access {
  return ROUTES[`${method} ${path}`]?.access ?? (method === "GET" ? "read" : "write");
}

const RANK: Record<Access, number> = { read: 0, write: 1, admin: 2, superuser: 3 };
export function allowed(role: Access, access: Access): boolean {
  return RANK[role] >= RANK[access];
}

/** The smallest body the schema accepts: its required fields, each the first enum value or an empty value of its type. */
export function minimalBody(schema: Schema | undefined): unknown {
  if (schema === undefined) return undefined;
  const object = schema.anyOf?.find((s) => s.type === "object") ?? schema;
  const body: Record<string, unknown> = {};
  for (const field of object.required ?? []) {
    const property = object.properties?.[field] ?? {};
    const type = [property.type].flat()[0];
    body[field] = property.enum?.[0] ?? (type === "array" ? [] : type === "object" ? {} : type === "string" ? "x" : 0);
  }
  return body;
}

export async function makeFixture(world: HttpWorld, t: HttpTenant, state: RunState = "running"): Promise<Fixture> {
  const ok = async (response: Promise<LightMyRequestResponse>) => {
    const answered = await response;
    if (answered.statusCode >= 300) throw new Error(`fixture setup failed: ${answered.statusCode} ${answered.body}`);
    return answered.json() as { id: string };
  };
  const post = (url: string, payload: unknown, key = t.writeKey) => ok(world.call(key, { method: "POST", url, payload: payload as object }));
  const agent = await post("/v1/agents", { name: "isolated" });
  const run = await post("/v1/runs", { agent_id: agent.id, callback_url: CALLBACK_URL });
  await ok(world.call(t.writeKey, { method: "PATCH", url: `/v1/runs/${run.id}`, payload: { status: "running" } }));
  const step = await post(`/v1/runs/${run.id}/steps`, { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
  const messages = (await post(`/v1/runs/${run.id}/messages`, { messages: [{ message_type: "assistant_message", content: "first" }] })) as unknown as { id: string }[];
  if (state === "ended") await post(`/v1/runs/${run.id}/cancel`, {});
  const key = await post("/v1/api-keys", { role: "read", name: "spare" }, t.adminKey);
  return { agent_id: agent.id, run_id: run.id, step_id: step.id, key_id: key.id, message_id: messages[0]!.id };
}

export function fixtureFor(method: Method, path: string): RunState {
  return ROUTES[`${method} ${path}`]?.run ?? "running";
}

export function requestFor(method: Method, path: string, operation: Operation, f: Fixture): { method: Method; url: string; payload?: object } {
  const route = ROUTES[`${method} ${path}`];
  const url = path.replace(/\{(\w+)\}/g, (_, name: string) => f[name as keyof Fixture]) + (route?.query?.(f) ?? "");
  const payload = route?.body?.(f) ?? minimalBody(operation.requestBody?.content["application/json"].schema);
  return payload === undefined ? { method, url } : { method, url, payload: payload as object };
}

/**
 * What the organization's admin can see of it: the fixture's run with everything hanging off
 * it, its agent, and the organization-wide lists and settings. A refused request must leave
 * all of it as it was. Keys' last_used_at is left out: presenting a key is not a change the
 * request made.
 */
export async function snapshot(world: HttpWorld, t: HttpTenant, f: Fixture): Promise<Record<string, unknown>> {
  const reads = [
    `/v1/runs/${f.run_id}`,
    `/v1/runs/${f.run_id}/steps`,
    `/v1/runs/${f.run_id}/messages`,
    `/v1/runs/${f.run_id}/usage`,
    `/v1/runs/${f.run_id}/metrics`,
    `/v1/runs/${f.run_id}/callbacks`,
    `/v1/steps/${f.step_id}`,
    `/v1/agents/${f.agent_id}`,
    "/v1/agents/?limit=1000",
    "/v1/runs/?limit=1000",
    "/v1/runs/stats",
    "/v1/api-keys",
    "/v1/retention-policy",
    "/v1/webhook-secret",
    "/v1/audit-log?limit=1000",
  ];
  const state: Record<string, unknown> = {};
  for (const url of reads) {
    const response = await world.call(t.adminKey, { method: "GET", url });
    state[url] = { status: response.statusCode, body: response.json() as unknown };
  }
  state["/v1/api-keys"] = ((state["/v1/api-keys"] as { body: Record<string, unknown>[] }).body).map(({ last_used_at: _used, ...key }) => key);
  const orgs = await world.call(world.superKey, { method: "GET", url: "/v1/organizations" });
  state.organizations = (orgs.json() as unknown[]).length;
  return state;
}
