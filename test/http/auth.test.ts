import { expect, it } from "vitest";
import { forEachServer } from "../support/server.js";

forEachServer("authentication and roles", (world) => {
  it("401 without a key or with a bad one; public routes need none", async () => {
    const { call } = world();
    const missing = await call(undefined, { method: "GET", url: "/v1/runs/" });
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toMatchObject({ code: "UNAUTHENTICATED", detail: expect.stringContaining("Authorization: Bearer") });
    expect((await call(undefined, { method: "GET", url: "/v1/runs/", headers: { authorization: "Basic abc" } })).statusCode).toBe(401);
    expect((await call("rlk_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbb", { method: "GET", url: "/v1/runs/" })).statusCode).toBe(401);
    for (const url of ["/healthz", "/readyz", "/openapi.json"]) expect((await call(undefined, { method: "GET", url })).statusCode).toBe(200);
    expect((await call(undefined, { method: "GET", url: "/docs/" })).statusCode).toBeLessThan(400);
  });

  it("403 when a read key writes or a write key administers; 404 for another organization's run", async () => {
    const { call } = world();
    const a = await world().tenant();
    const b = await world().tenant();
    const agent = await a.agent();
    const readWrite = await call(a.readKey, { method: "POST", url: "/v1/runs", payload: { agent_id: agent } });
    expect(readWrite.statusCode).toBe(403);
    expect(readWrite.json().code).toBe("PERMISSION_DENIED");
    expect((await call(a.writeKey, { method: "POST", url: "/v1/api-keys", payload: { role: "read" } })).statusCode).toBe(403);
    expect((await call(a.adminKey, { method: "POST", url: "/v1/organizations", payload: { name: "x" } })).statusCode).toBe(403);

    const run = (await call(a.writeKey, { method: "POST", url: "/v1/runs", payload: { agent_id: agent } })).json();
    for (const [method, url] of [
      ["GET", `/v1/runs/${run.id}`],
      ["GET", `/v1/runs/${run.id}/messages`],
      ["GET", `/v1/runs/${run.id}/usage`],
      ["POST", `/v1/runs/${run.id}/cancel`],
      ["DELETE", `/v1/runs/${run.id}`],
      ["GET", `/v1/agents/${agent}`],
    ] as const) {
      const response = await call(b.adminKey, { method, url });
      expect(response.statusCode, `${method} ${url}`).toBe(404);
    }
    expect((await call(a.readKey, { method: "GET", url: `/v1/runs/${run.id}` })).json().status).toBe("created");
  });

  it("admins create, list and revoke keys; a revoked key stops working at once; the secret is shown once", async () => {
    const { call } = world();
    const a = await world().tenant();
    const created = await call(a.adminKey, { method: "POST", url: "/v1/api-keys", payload: { name: "ci", role: "write" } });
    expect(created.statusCode).toBe(201);
    const key = created.json();
    expect(key).toMatchObject({ name: "ci", role: "write", organization_id: a.orgId, revoked_at: null });
    expect(key.key.startsWith(key.prefix)).toBe(true);
    const listed = (await call(a.adminKey, { method: "GET", url: "/v1/api-keys" })).json();
    expect(listed.map((k: { id: string }) => k.id)).toContain(key.id);
    expect(JSON.stringify(listed)).not.toContain(key.key);
    expect((await call(key.key, { method: "GET", url: "/v1/runs/" })).statusCode).toBe(200);
    const revoked = await call(a.adminKey, { method: "DELETE", url: `/v1/api-keys/${key.id}` });
    expect(revoked.json().revoked_at).not.toBeNull();
    const after = await call(key.key, { method: "GET", url: "/v1/runs/" });
    expect(after.statusCode).toBe(401);
    expect(after.json().detail).toContain("revoked");
  });

  it("the superuser creates organizations and keys in them; RUNLEDGER_ADMIN_KEY style keys are accepted", async () => {
    const { call, superKey } = world();
    const org = await call(superKey, { method: "POST", url: "/v1/organizations", payload: { name: "acme" } });
    expect(org.statusCode).toBe(201);
    const orgs = (await call(superKey, { method: "GET", url: "/v1/organizations" })).json();
    expect(orgs.map((o: { id: string }) => o.id)).toContain(org.json().id);
    const key = await call(superKey, { method: "POST", url: "/v1/api-keys", payload: { organization_id: org.json().id, role: "admin" } });
    expect(key.json()).toMatchObject({ organization_id: org.json().id, role: "admin", is_superuser: false });
    expect((await call(superKey, { method: "GET", url: `/v1/api-keys?organization_id=${org.json().id}` })).json()).toHaveLength(1);
  });
});
