import { expect, it } from "vitest";
import { forEachServer } from "../support/server.js";

forEachServer("audit log", (world) => {
  it("records who changed what, for admins, filterable and paginated", async () => {
    const { call } = world();
    const t = await world().tenant();
    const keys = (await call(t.adminKey, { method: "GET", url: "/v1/api-keys" })).json() as { id: string; role: string }[];
    const writeKeyId = keys.find((k) => k.role === "write")!.id;
    const agent = await t.agent();
    const run = (await call(t.writeKey, { method: "POST", url: "/v1/runs", payload: { agent_id: agent } })).json();
    await call(t.writeKey, { method: "PATCH", url: `/v1/runs/${run.id}`, payload: { status: "running" } });
    await call(t.writeKey, { method: "POST", url: `/v1/runs/${run.id}/heartbeat` });
    await call(t.adminKey, { method: "POST", url: `/v1/runs/${run.id}/cancel` });

    const forRun = (await call(t.adminKey, { method: "GET", url: `/v1/audit-log?run_id=${run.id}` })).json() as Record<string, unknown>[];
    expect(forRun.map((e) => e.action)).toEqual(["run.cancel", "run.update", "run.create"]);
    expect(forRun[2]).toMatchObject({ api_key_id: writeKeyId, run_id: run.id });
    expect(forRun[1]).toMatchObject({ details: { status: "running" } });

    const creates = (await call(t.adminKey, { method: "GET", url: "/v1/audit-log?action=agent.create" })).json() as Record<string, unknown>[];
    expect(creates).toHaveLength(1);
    const all = (await call(t.adminKey, { method: "GET", url: "/v1/audit-log?limit=1000" })).json() as { id: number }[];
    const firstPage = (await call(t.adminKey, { method: "GET", url: "/v1/audit-log?limit=2" })).json() as { id: number }[];
    const secondPage = (await call(t.adminKey, { method: "GET", url: `/v1/audit-log?limit=2&before=${firstPage[1]!.id}` })).json() as { id: number }[];
    expect([...firstPage, ...secondPage].map((e) => e.id)).toEqual(all.slice(0, 4).map((e) => e.id));

    expect((await call(t.writeKey, { method: "GET", url: "/v1/audit-log" })).statusCode).toBe(403);
    const other = await world().tenant();
    expect((await call(other.adminKey, { method: "GET", url: `/v1/audit-log?run_id=${run.id}` })).json()).toEqual([]);
  });
});
