/**
 * Property-based hostile input on every /v1 operation of the OpenAPI document the server
 * serves. For each operation fast-check generates requests from its schemas — valid values
 * (fixture ids, hostile free text, extreme numbers) and one targeted mutation of one field —
 * and sends them over a real socket. Every answer must come within the deadline and below
 * 500; a refusal must be a problem body (`detail`, `code`, optional `problems`) and leave
 * the row count of every table as it was; a mutated request must be refused, naming the field.
 *
 * The seed is printed with every failure, with the command that replays it:
 * FUZZ_SEED (the whole run), FUZZ_ROUTE (one operation), FUZZ_PATH (the shrunk case).
 * FUZZ_RUNS sets the cases per operation.
 */
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type FuzzCase, type FuzzOperation, type Fixtures, caseArbitrary, render } from "../support/fuzz-requests.js";
import { fixtureFor, makeFixture, type Method } from "../support/isolation-routes.js";
import { HangError, RawClient, type RawResponse } from "../support/raw-http.js";
import { rowCounts } from "../support/row-counts.js";
import { forEachServer, type HttpTenant } from "../support/server.js";

const SEED = process.env.FUZZ_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED);
const ONLY = process.env.FUZZ_ROUTE;
const PATH = process.env.FUZZ_PATH;
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const DEADLINE_MS = 5_000;

/** Routes called with the superuser key: organizations, and keys (which may name an organization). */
const SUPERUSER_ROUTES = new Set(["POST /v1/organizations", "GET /v1/organizations", "POST /v1/api-keys", "GET /v1/api-keys"]);
/** Writes that leave the fixture as every route needs it; after any other accepted write it is built again. */
const KEEPS_FIXTURE = new Set([
  "POST /v1/runs",
  "POST /v1/agents",
  "PATCH /v1/agents/{agent_id}",
  "POST /v1/api-keys",
  "POST /v1/organizations",
  "POST /v1/runs/{run_id}/heartbeat",
  "POST /v1/runs/{run_id}/steps",
  "POST /v1/runs/{run_id}/messages",
  "POST /v1/runs/{run_id}/events",
  "POST /v1/runs/{run_id}/stream",
  "PATCH /v1/steps/{step_id}/feedback",
  "PUT /v1/retention-policy",
  "POST /v1/webhook-secret/rotate",
]);

type Problem = { detail?: unknown; code?: unknown; problems?: unknown };

/** Why an answer breaks a property, or undefined. */
function violation(c: FuzzCase, response: RawResponse): string | undefined {
  if (response.status >= 500) return `answered ${response.status}: ${response.body.slice(0, 300)}`;
  if (response.status >= 400) {
    let problem: Problem;
    try {
      problem = JSON.parse(response.body) as Problem;
    } catch {
      return `answered ${response.status} with a body that is not JSON: ${response.body.slice(0, 200)}`;
    }
    if (typeof problem.detail !== "string" || problem.detail.length < 10 || typeof problem.code !== "string") {
      return `answered ${response.status} without a problem body: ${response.body.slice(0, 300)}`;
    }
    if (problem.problems !== undefined && !(Array.isArray(problem.problems) && problem.problems.every((p) => typeof p === "string"))) {
      return `answered ${response.status} with problems that are not a list of strings: ${response.body.slice(0, 300)}`;
    }
    const mutation = c.mutation;
    if (mutation?.named) {
      const said = [problem.detail, ...((problem.problems as string[] | undefined) ?? [])].join("\n");
      if (!said.includes(mutation.field)) return `refused ${mutation.part} ${mutation.kind} of '${mutation.field}' without naming it: ${response.body.slice(0, 300)}`;
    }
    return undefined;
  }
  if (c.mutation !== undefined) return `accepted (${response.status}) a ${c.mutation.part} ${c.mutation.kind} of '${c.mutation.field}': ${response.body.slice(0, 200)}`;
  return undefined;
}

forEachServer("generated hostile input on every operation", (world) => {
  let client: RawClient;
  let operations: FuzzOperation[];
  beforeAll(async () => {
    client = new RawClient(world().baseUrl, DEADLINE_MS);
    const doc = (await world().call(undefined, { method: "GET", url: "/openapi.json" })).json() as {
      paths: Record<string, Record<string, { parameters?: FuzzOperation["parameters"]; requestBody?: { content: { "application/json": { schema: FuzzOperation["body"] } } } }>>;
    };
    operations = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith("/v1/"))
      .flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({
          method: method.toUpperCase(),
          path,
          parameters: operation.parameters ?? [],
          body: operation.requestBody?.content["application/json"].schema,
        })),
      );
    expect(operations.length).toBeGreaterThan(40);
  });
  afterAll(() => client?.close());

  it(`keeps every property on every operation (seed ${SEED})`, { timeout: 600_000 }, async () => {
    const w = world();
    const failures: string[] = [];
    const started = Date.now();
    const statuses = new Map<number, number>();
    for (const op of operations) {
      const route = `${op.method} ${op.path}`;
      if (ONLY !== undefined && ONLY !== route) continue;
      const tenant: HttpTenant = await w.tenant();
      const key = SUPERUSER_ROUTES.has(route) ? w.superKey : tenant.adminKey;
      let fixtures: Fixtures | undefined;
      const current = async (): Promise<Fixtures> => {
        fixtures ??= { ...(await makeFixture(w, tenant, fixtureFor(op.method as Method, op.path))), org_id: tenant.orgId };
        return fixtures;
      };
      const property = fc.asyncProperty(caseArbitrary(op), async (c) => {
        const request = render(op, c, await current());
        const shown = `${request.method} ${request.path.slice(0, 400)} ${JSON.stringify(request.headers)} ${request.body?.slice(0, 600) ?? ""}`;
        const fail = (why: string) => new Error(`${why}\n  request: ${shown}`);
        const before = await rowCounts(w.ledger);
        let response: RawResponse;
        try {
          response = await client.request({ ...request, headers: { ...request.headers, authorization: `Bearer ${key}` } });
        } catch (error) {
          if (error instanceof HangError) throw fail(`hang: ${error.message}`);
          throw error;
        }
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const broken = violation(c, response);
        if (broken !== undefined) throw fail(broken);
        if (response.status >= 400) {
          const after = await rowCounts(w.ledger);
          const changed = Object.keys(after).filter((table) => after[table] !== before[table]);
          if (changed.length > 0) throw fail(`refused with ${response.status} but changed rows of ${changed.map((t) => `${t} (${before[t]} → ${after[t]})`).join(", ")}`);
        } else if (op.method !== "GET" && !KEEPS_FIXTURE.has(route)) {
          fixtures = undefined;
        }
      });
      const details = await fc.check(property, { seed: SEED, numRuns: RUNS, ...(PATH !== undefined && ONLY === route ? { path: PATH } : {}) });
      if (details.failed) {
        failures.push(
          [
            `${route}: ${(details.errorInstance as Error | undefined)?.message ?? String(details.errorInstance)}`,
            `  replay: FUZZ_SEED=${details.seed} FUZZ_ROUTE='${route}' FUZZ_PATH='${details.counterexamplePath}' npx vitest run test/http/fuzz.test.ts`,
          ].join("\n"),
        );
      }
    }
    const requests = [...statuses.values()].reduce((a, b) => a + b, 0);
    const answered = [...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`).join(" ");
    console.log(`fuzz [${w.backend}] seed ${SEED}: ${requests} requests over ${operations.length} operations in ${((Date.now() - started) / 1000).toFixed(1)} s: ${answered}`);
    expect(failures, failures.join("\n\n")).toEqual([]);
  });
});
