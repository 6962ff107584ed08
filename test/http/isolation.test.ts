/**
 * The isolation matrix, driven from the OpenAPI document: every /v1 route, called with each
 * role of the organization that owns the resources and of another organization. Another
 * organization's keys get 404 on a resource and see none of its rows in lists, stats and bulk
 * results; a key below the route's role gets 403; and no refused request changes anything.
 */
import type { LightMyRequestResponse } from "fastify";
import { beforeAll, expect, it } from "vitest";
import {
  accessOf,
  allowed,
  fixtureFor,
  makeFixture,
  minimalBody,
  requestFor,
  snapshot,
  type Access,
  type Fixture,
  type Method,
  type Operation,
} from "../support/isolation-routes.js";
import { forEachServer, type HttpTenant, type HttpWorld } from "../support/server.js";
import { collect, readSse } from "../support/sse.js";

/** The organization-wide feed never ends, so it is read over a socket in its own test. */
const ORGANIZATION_FEED = "GET /v1/runs/events";

/** Organization-wide routes whose answer shows which runs, steps or keys the caller can see. */
const VIEWS = new Set([
  "GET /v1/runs/",
  "GET /v1/runs/active",
  "GET /v1/steps/",
  "GET /v1/agents/",
  "GET /v1/runs/stats",
  "GET /v1/api-keys",
  "GET /v1/audit-log",
  "POST /v1/runs/bulk/cancel",
  "POST /v1/runs/bulk/delete",
]);

/** Whether an answer shows any of the owner's rows: its ids, run counts or matched runs. */
function showsOwner(response: LightMyRequestResponse, owner: HttpTenant, f: Fixture): boolean {
  const text = response.body;
  if ([owner.orgId, f.agent_id, f.run_id, f.step_id, f.key_id].some((id) => text.includes(id))) return true;
  const body = JSON.parse(text === "" ? "null" : text) as { summary?: { runs?: number }; matched?: number } | null;
  return (body?.summary?.runs ?? 0) > 0 || (body?.matched ?? 0) > 0;
}

forEachServer("isolation between organizations and roles on every route", (world) => {
  let a: HttpTenant;
  let b: HttpTenant;
  let operations: { method: Method; path: string; operation: Operation }[];
  const exercised = new Set<string>();

  beforeAll(async () => {
    [a, b] = [await world().tenant(), await world().tenant()];
    const doc = (await world().call(undefined, { method: "GET", url: "/openapi.json" })).json() as { paths: Record<string, Record<string, Operation>> };
    operations = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith("/v1/"))
      .flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ method: method.toUpperCase() as Method, path, operation })));
    expect(operations.length).toBeGreaterThan(40);
  });

  function callers(w: HttpWorld): { label: string; key: string; role: Access; own: boolean }[] {
    return [
      { label: "own admin key", key: a.adminKey, role: "admin", own: true },
      { label: "own write key", key: a.writeKey, role: "write", own: true },
      { label: "own read key", key: a.readKey, role: "read", own: true },
      { label: "other organization's admin key", key: b.adminKey, role: "admin", own: false },
      { label: "other organization's write key", key: b.writeKey, role: "write", own: false },
      { label: "other organization's read key", key: b.readKey, role: "read", own: false },
      { label: "superuser key", key: w.superKey, role: "superuser", own: false },
    ];
  }

  it("answers every route for every role of the owner and of another organization as the roles and tenancy require", async () => {
    const w = world();
    const failures: string[] = [];
    for (const { method, path, operation } of operations) {
      const route = `${method} ${path}`;
      if (route === ORGANIZATION_FEED) continue;
      const access = accessOf(method, path);
      const hasResource = path.includes("{");
      const shared = await makeFixture(w, a, fixtureFor(method, path));
      const before = await snapshot(w, a, shared);
      // Refused and foreign calls first, compared with the snapshot; then the owner's successful calls.
      const ordered = callers(w).sort((x, y) => Number(x.own && allowed(x.role, access)) - Number(y.own && allowed(y.role, access)));
      for (const caller of ordered) {
        const cell = `${route} with the ${caller.label} (${caller.role}) on the owner's resources`;
        // The superuser administers installations, not tenants' runs: only its own routes are its cells.
        if (caller.role === "superuser" && access !== "superuser") continue;
        const permitted = allowed(caller.role, access);
        if (permitted && (caller.own || access === "superuser")) {
          // A fresh fixture: the call may delete or end what it was given.
          const f = await makeFixture(w, a, fixtureFor(method, path));
          const response = await w.call(caller.key, requestFor(method, path, operation, f));
          if (response.statusCode >= 300) failures.push(`${cell}: expected success, got ${response.statusCode} ${response.body}`);
          else if (VIEWS.has(route) && !showsOwner(response, a, f)) failures.push(`${cell}: the answer does not show the owner's rows: ${response.body}`);
          continue;
        }
        // Another organization on an organization-wide route acts on its own organization: it may
        // succeed, showing none of the owner's rows, or answer 404, which may quote the id it was sent.
        const response = await w.call(caller.key, requestFor(method, path, operation, shared));
        if (!permitted) {
          if (response.statusCode !== 403 || (response.json() as { code?: string }).code !== "PERMISSION_DENIED") {
            failures.push(`${cell}: expected 403 PERMISSION_DENIED, got ${response.statusCode} ${response.body}`);
          }
        } else if (hasResource) {
          if (response.statusCode !== 404) failures.push(`${cell}: expected 404, got ${response.statusCode} ${response.body}`);
        } else if (response.statusCode >= 500 || (response.statusCode >= 300 && response.statusCode !== 404)) {
          failures.push(`${cell}: expected success on the caller's own organization or 404, got ${response.statusCode} ${response.body}`);
        } else if (response.statusCode < 300 && showsOwner(response, a, shared)) {
          failures.push(`${cell}: the answer shows the owner's rows: ${response.body}`);
        }
        const after = await snapshot(w, a, shared);
        const changed = Object.keys(before).filter((read) => JSON.stringify(after[read]) !== JSON.stringify(before[read]));
        if (changed.length > 0) failures.push(`${cell}: changed what the owner reads at ${changed.join(", ")}: ${changed.map((read) => JSON.stringify(after[read])).join(" ")}`);
      }
      exercised.add(route);
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it("the organization-wide event feed carries the owner's runs to its keys and none of them to another organization", async () => {
    const w = world();
    const agentA = await a.agent();
    const agentB = await b.agent();
    for (const caller of callers(w).filter((c) => c.role !== "superuser")) {
      const controller = new AbortController();
      const feed = readSse(`${w.baseUrl}/v1/runs/events`, { headers: { authorization: `Bearer ${caller.key}` }, signal: controller.signal });
      expect((await feed.next()).value, `${ORGANIZATION_FEED} with the ${caller.label}`).toMatchObject({ comment: "ready" });
      const runA = (await w.call(a.writeKey, { method: "POST", url: "/v1/runs", payload: { agent_id: agentA } })).json().id as string;
      const runB = (await w.call(b.writeKey, { method: "POST", url: "/v1/runs", payload: { agent_id: agentB } })).json().id as string;
      const expected = caller.own ? runA : runB;
      const events = await collect(feed, (got) => got.some((e) => e.data.includes(expected)));
      controller.abort();
      const runs = events.filter((e) => e.id !== undefined).map((e) => (JSON.parse(e.data) as { run_id: string }).run_id);
      expect(runs, `${ORGANIZATION_FEED} with the ${caller.label}`).toEqual([expected]);
    }
    exercised.add(ORGANIZATION_FEED);
  });

  it("another organization's ids inside the caller's own requests answer as ids never issued, and change nothing", async () => {
    const w = world();
    const owns = { running: await makeFixture(w, b), ended: await makeFixture(w, b, "ended") };
    const foreign = await makeFixture(w, a);
    const before = await snapshot(w, a, foreign);
    const byField: Record<string, string> = {
      agent_id: foreign.agent_id,
      run_id: foreign.run_id,
      step_id: foreign.step_id,
      key_id: foreign.key_id,
      api_key_id: foreign.key_id,
      organization_id: a.orgId,
    };
    const cursors = [foreign.agent_id, foreign.run_id, foreign.step_id, foreign.message_id];
    const failures: string[] = [];
    let compared = 0;
    for (const { method, path, operation } of operations) {
      const route = `${method} ${path}`;
      if (route === ORGANIZATION_FEED) continue;
      const own = owns[fixtureFor(method, path)];
      const base = requestFor(method, path, operation, own);
      // Each variant takes an id and gives the request carrying it. `id` fields of create bodies are
      // left out: ids are global, so a taken id is refused whoever holds it.
      const variants: { where: string; id: string; request: (id: string) => typeof base }[] = [];
      for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
        variants.push({ where: `path ${name}`, id: byField[name!]!, request: (id) => ({ ...base, url: base.url.replace(own[name as keyof Fixture], id) }) });
      }
      const query = (operation.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name);
      // Query variants go on the bare path, so a route's own scoping filter does not mask them.
      const bare = base.url.split("?")[0]!;
      for (const name of query.filter((n) => n === "after" || n === "before")) {
        for (const id of cursors) variants.push({ where: `cursor ${name}`, id, request: (value) => ({ ...base, url: `${bare}?${name}=${value}` }) });
      }
      for (const name of query.filter((n) => byField[n.replace(/s$/, "")] !== undefined)) {
        variants.push({ where: `query ${name}`, id: byField[name.replace(/s$/, "")]!, request: (value) => ({ ...base, url: `${bare}?${name}=${value}` }) });
      }
      const schema = operation.requestBody?.content["application/json"].schema;
      const properties = Object.keys((schema?.anyOf?.find((x) => x.type === "object") ?? schema)?.properties ?? {});
      for (const name of properties.filter((n) => byField[n.replace(/s$/, "")] !== undefined)) {
        const single = name.replace(/s$/, "");
        variants.push({ where: `body ${name}`, id: byField[single]!, request: (value) => ({ ...base, payload: { ...(minimalBody(schema) as object), [name]: name === single ? value : [value] } }) });
      }
      for (const variant of variants) {
        const never = variant.id.replace(/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, "00000000-0000-4000-8000-000000000000");
        const withForeign = await w.call(b.adminKey, variant.request(variant.id));
        const withNever = await w.call(b.adminKey, variant.request(never));
        compared++;
        const cell = `${route} with the owner's id in the ${variant.where}, sent by the other organization's admin key`;
        const seen = { status: withForeign.statusCode, body: withForeign.body.replaceAll(variant.id, "<id>") };
        const unseen = { status: withNever.statusCode, body: withNever.body.replaceAll(never, "<id>") };
        if (JSON.stringify(seen) !== JSON.stringify(unseen)) failures.push(`${cell}: answered ${seen.status} ${seen.body}, but for an id never issued ${unseen.status} ${unseen.body}`);
      }
    }
    expect(compared).toBeGreaterThan(20);
    const after = await snapshot(w, a, foreign);
    expect(failures).toEqual([]);
    expect(after, "the owner's state after all of that").toEqual(before);
  });

  // Needs the two tests above to have run: they record each route once all its cells are done.
  it("covers every /v1 route of the API description", () => {
    expect([...exercised].sort()).toEqual(operations.map((o) => `${o.method} ${o.path}`).sort());
  });
});
