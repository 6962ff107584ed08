import SwaggerParser from "@apidevtools/swagger-parser";
import { expect, it } from "vitest";
import { forEachServer } from "../support/server.js";

forEachServer("OpenAPI document", (world) => {
  it("validates and lists every route the server answers", async () => {
    const doc = (await world().call(undefined, { method: "GET", url: "/openapi.json" })).json();
    await SwaggerParser.validate(structuredClone(doc));
    const documented = new Set(
      Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
        Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.replace(/\/$/, "")}`),
      ),
    );
    const served = new Set(
      world()
        .app.routeTable.filter((r) => !r.hidden && r.method !== "HEAD")
        .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, "{$1}").replace(/\/$/, "")}`),
    );
    expect(served.size).toBeGreaterThan(25);
    expect([...served].filter((r) => !documented.has(r))).toEqual([]);
    for (const required of ["GET /v1/runs", "GET /v1/runs/{run_id}/usage", "POST /v1/agents/{agent_id}/messages/cancel", "GET /v1/steps", "POST /v1/api-keys"]) {
      expect(documented.has(required), required).toBe(true);
    }
  });
});
