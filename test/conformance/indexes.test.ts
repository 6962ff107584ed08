import { expect, it } from "vitest";
import type { Executor, SqlParam } from "../../src/store/executor.js";
import { Repos } from "../../src/store/repos.js";
import type { Store } from "../../src/store/store.js";
import { forEachBackend } from "../support/fixtures.js";
import { storeOf } from "../../src/store/store.js";

/**
 * The list queries, and the statistics' reads by rank, must stay index range scans at
 * millions of runs. Each case calls the
 * real repository method against a recording executor, then asks the planner for the plan
 * of exactly the statement it sent. A full scan of runs, or a sort, fails the test.
 */
function recorder(store: Store): { repos: Repos; statements: { sql: string; params: readonly SqlParam[] }[] } {
  const statements: { sql: string; params: readonly SqlParam[] }[] = [];
  const executor: Executor = {
    all: (sql, params = []) => (statements.push({ sql, params }), store.driver.all(sql, params)),
    values: (sql, params = []) => (statements.push({ sql, params }), store.driver.values(sql, params)),
    get: (sql, params = []) => (statements.push({ sql, params }), store.driver.get(sql, params)),
    run: (sql, params = []) => (statements.push({ sql, params }), store.driver.run(sql, params)),
  };
  return { repos: new Repos(executor, store.driver.dialect), statements };
}

async function plan(store: Store, sql: string, params: readonly SqlParam[]): Promise<string> {
  if (store.dialect === "sqlite") {
    const rows = await store.driver.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params);
    return rows.map((r) => r.detail).join("\n");
  }
  // With sequential scans priced out, the plan shows which index the query can use at all.
  return store.driver.transaction(async (tx) => {
    await tx.run("SET LOCAL enable_seqscan = off");
    const rows = await tx.all<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, params);
    return rows.map((r) => r["QUERY PLAN"]).join("\n");
  });
}

const ORG = "org-00000000-0000-4000-8000-000000000000";
const AGENT = "agent-00000000-0000-4000-8000-000000000000";
const RUN = "run-00000000-0000-4000-8000-000000000000";
const CURSOR: SqlParam[] = ["2026-01-01T00:00:00.000Z", RUN];
const PAGE = { order: "desc", limit: 100 } as const;

const CASES: Record<string, { index: RegExp; call: (repos: Repos) => Promise<unknown> }> = {
  "first page of runs": { index: /runs_org_created/, call: (r) => r.runs.list(ORG, {}, "created_at", PAGE) },
  "a page of runs after a cursor": { index: /runs_org_created/, call: (r) => r.runs.list(ORG, {}, "created_at", { ...PAGE, after: CURSOR }) },
  "a page of runs before a cursor": { index: /runs_org_created/, call: (r) => r.runs.list(ORG, {}, "created_at", { ...PAGE, before: CURSOR }) },
  "an agent's runs": {
    index: /runs_org_agent_created/,
    call: (r) => r.runs.list(ORG, { agent_ids: [AGENT] }, "created_at", { ...PAGE, after: CURSOR }),
  },
  "runs in one status": { index: /runs_org_status_created/, call: (r) => r.runs.list(ORG, { statuses: ["completed"] }, "created_at", PAGE) },
  "active runs": { index: /runs_active|runs_org_status_created/, call: (r) => r.runs.list(ORG, { statuses: ["created", "running"] }, "created_at", PAGE) },
  "a run's steps": { index: /steps_run_created/, call: (r) => r.steps.list(ORG, { run_id: RUN }, PAGE) },
  "the organization's steps": { index: /steps_org_created/, call: (r) => r.steps.list(ORG, {}, PAGE) },
  "a run's messages": { index: /messages_run_sequence/, call: (r) => r.messages.list(ORG, RUN, undefined, { order: "asc", limit: 100, after: [0] }) },
  "a run's events": { index: /run_events_run_seq/, call: (r) => r.events.list(ORG, RUN, 0, 100) },
  "the organization's duration percentiles": { index: /runs_org_duration/, call: (r) => r.stats.percentilesByRank(ORG, [{ durationCount: 1_000_000, ttftCount: 0 }]) },
  "the organization's TTFT percentiles": { index: /runs_org_ttft/, call: (r) => r.stats.percentilesByRank(ORG, [{ durationCount: 0, ttftCount: 1_000_000 }]) },
  "one status's duration percentiles": {
    index: /runs_org_status_duration/,
    call: (r) => r.stats.percentilesByRank(ORG, [{ status: "completed", durationCount: 1_000_000, ttftCount: 0 }]),
  },
  "one status's TTFT percentiles": {
    index: /runs_org_status_ttft/,
    call: (r) => r.stats.percentilesByRank(ORG, [{ status: "failed", durationCount: 0, ttftCount: 1_000_000 }]),
  },
};

forEachBackend("indexes", (world) => {
  for (const [name, { index, call }] of Object.entries(CASES)) {
    it(`${name}: an index range scan without a sort`, async () => {
      const store = storeOf(world().ledger);
      const { repos, statements } = recorder(store);
      await call(repos);
      const select = statements.at(-1)!;
      const text = await plan(store, select.sql, select.params);
      expect(text).toMatch(index);
      expect(text).not.toMatch(/\bSCAN (TABLE )?(runs|steps|messages|run_events)\b(?! USING)|Seq Scan|USE TEMP B-TREE FOR ORDER BY/);
      if (store.dialect === "postgres") expect(text).not.toMatch(/->\s*Sort\b|^Sort\b/m);
    });
  }
});
