import type { FastifyInstance } from "fastify";
import { type Static, Type } from "typebox";
import type { Ledger } from "../../ledger.js";
import { Nullable } from "../../core/schemas/common.js";
import { RunStatsSchema } from "../../core/schemas/runs.js";
import { errorResponses } from "../schemas/common.js";

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
    app.get<{ Querystring: Static<typeof RunStatsSchema> }>(
      "/v1/runs/stats",
      {
        schema: {
          tags: ["runs"],
          summary: "Usage and performance statistics over the runs the list filters select",
          description:
            "Counts by status, error rate, duration and time-to-first-token percentiles (nearest rank, ns), token totals, steps per run and the most used tools; per group (`group_by`) and/or time bucket (`bucket`).",
          querystring: RunStatsSchema,
          response: { 200: Report, ...errorResponses },
        },
      },
      (request) => ledger.stats.stats(request.actor, request.query),
    );
  };
}
