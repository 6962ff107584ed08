import { expect, it } from "vitest";
import { forEachServer } from "../support/server.js";

forEachServer("Prometheus metrics", (world) => {
  it("counts exactly this server's transitions, stored runs by status, active runs and HTTP latency by route", async () => {
    const { call } = world();
    const t = await world().tenant();
    const agent = await t.agent();
    const run = (await call(t.writeKey, { method: "POST", url: "/v1/runs", payload: { agent_id: agent } })).json();
    await call(t.writeKey, { method: "PATCH", url: `/v1/runs/${run.id}`, payload: { status: "running" } });
    await call(t.writeKey, { method: "POST", url: "/v1/runs", payload: { agent_id: agent } });
    await call(t.writeKey, { method: "PATCH", url: `/v1/runs/${run.id}`, payload: { status: "completed" } });
    await call(t.readKey, { method: "GET", url: "/v1/runs/" });
    const response = await call(undefined, { method: "GET", url: "/metrics" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toContain("text/plain");
    const text = response.body;
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? NaN);
    // This server's own counters: the other backend's server in this process counts apart.
    expect(value(/^runledger_run_transitions_total\{status="running"\} (\d+)/m)).toBe(1);
    expect(value(/^runledger_run_transitions_total\{status="completed"\} (\d+)/m)).toBe(1);
    expect(text).not.toMatch(/^runledger_run_transitions_total\{status="(created|failed|cancelled)"\}/m);
    expect(value(/^runledger_runs\{status="completed"\} (\d+)/m)).toBe(1);
    expect(value(/^runledger_runs\{status="created"\} (\d+)/m)).toBe(1);
    expect(value(/^runledger_active_runs (\d+)/m)).toBe(1);
    expect(value(/^runledger_http_request_duration_seconds_count\{method="POST",route="\/v1\/runs",status_code="201"\} (\d+)/m)).toBe(2);
    expect(text).toMatch(/runledger_http_request_duration_seconds_count\{method="GET",route="\/v1\/runs\/",status_code="200"\} \d+/);
    expect(text).toMatch(/runledger_http_request_duration_seconds_count\{method="POST",route="\/v1\/runs",status_code="201"\} \d+/);
  });
});
