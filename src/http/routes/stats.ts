import type { FastifyInstance } from "fastify";
import { type Static, Type } from "typebox";
import type { Ledger } from "../../ledger.js";
import { errorResponses, Nullable, StringEnum } from "../schemas/common.js";
import { RunListQuery } from "../schemas/runs.js";

const { before: _b, after: _a, limit: _l, order: _o, order_by: _ob, ascending: _asc, duration_percentile: _dp, ...filters } = RunListQuery.properties;

export const RunStatsQuery = Type.Object(
  {
    ...filters,
    group_by: Type.Optional(StringEnum(["agent_id", "status", "stop_reason", "model"] as const)),
    bucket: Type.Optional(StringEnum(["minute", "hour", "day"] as const, { description: "Time buckets of created_at (UTC)" })),
  },
  { additionalProperties: false },
);

const Distribution = Type.Object({
  avg: Nullable(Type.Integer()),
  p50: Nullable(Type.Integer()),
  p95: Nullable(Type.Integer()),
  p99: Nullable(Type.Integer()),
  max: Nullable(Type.Integer()),
});

const Stats = {
  runs: Type.Integer(),
  by_status: Type.Record(Type.String(), Type.Integer()),
  error_rate: Type.Number({ description: "failed ÷ ended runs" }),
  duration_ns: Distribution,
  ttft_ns: Distribution,
  tokens: Type.Object({
    prompt: Type.Integer(),
    completion: Type.Integer(),
    total: Type.Integer(),
    cached_input: Type.Integer(),
    cache_write: Type.Integer(),
    reasoning: Type.Integer(),
  }),
  steps: Type.Object({ total: Type.Integer(), avg_per_run: Type.Number(), max: Type.Integer() }),
};

const Report = Type.Object({
  summary: Type.Object(Stats),
  groups: Type.Array(Type.Object({ group: Type.Optional(Nullable(Type.String())), bucket: Type.Optional(Type.String()), ...Stats })),
  top_tools: Type.Array(Type.Object({ tool: Type.String(), runs: Type.Integer() })),
});

export function statsRoutes(ledger: Ledger) {
  return async (app: FastifyInstance) => {
    app.get<{ Querystring: Static<typeof RunStatsQuery> }>(
      "/v1/runs/stats",
      {
        schema: {
          tags: ["runs"],
          summary: "Usage and performance statistics over the runs the list filters select",
          description:
            "Counts by status, error rate, duration and time-to-first-token percentiles (nearest rank, ns), token totals, steps per run and the most used tools; per group (`group_by`) and/or time bucket (`bucket`).",
          querystring: RunStatsQuery,
          response: { 200: Report, ...errorResponses },
        },
      },
      (request) => ledger.stats.stats(request.actor, request.query),
    );
  };
}
