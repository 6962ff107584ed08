/**
 * The stats page: charts from GET /v1/runs/stats under the runs page's filters. Each chart
 * shows the exact request that produced it, so a script gets the same figures.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import { Api, errorMessage } from "../api.js";
import { ApiRequest } from "../components/api-request.js";
import { Chart, type ChartSeries } from "../components/chart.js";
import { FilterBar } from "../components/filter-bar.js";
import { GroupTable, TopTools } from "../components/stats-tables.js";
import { useApp } from "../context.js";
import { filtersToParams, filtersToQuery, parseFilters, RANGES } from "../filters.js";
import { formatDurationNs, formatNumber, formatPercent } from "../format.js";
import type { Query } from "../query.js";
import { navigate, withParams } from "../router.js";
import type { StatsReport } from "../types.js";

const BUCKETS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
type Bucket = keyof typeof BUCKETS;
const MAX_FILLED_BUCKETS = 2000;

const STATUS_COLORS: Record<string, string> = { created: "#94a3b8", running: "#3b82f6", completed: "#16a34a", failed: "#dc2626", cancelled: "#d97706" };
const PERCENTILE_COLORS = { p50: "#2563eb", p95: "#d97706", p99: "#dc2626" } as const;

function autoBucket(spanMs: number): Bucket {
  if (spanMs <= 3 * 3_600_000) return "minute";
  if (spanMs <= 8 * 86_400_000) return "hour";
  return "day";
}

interface Loaded {
  requests: { timeline: string; agents: string; models: string };
  timeline: StatsReport;
  agents: StatsReport;
  models: StatsReport;
  times: number[];
  bucket: Bucket;
}

/** Every bucket from the window's start to its end, so quiet periods show as zero, not as a gap. */
function bucketTimes(report: StatsReport, bucket: Bucket, fromMs: number | undefined, toMs: number): number[] {
  const step = BUCKETS[bucket];
  const present = report.groups.map((g) => Date.parse(g.bucket!)).filter((t) => !Number.isNaN(t));
  const start = fromMs ?? Math.min(toMs, ...present);
  const first = Math.floor(start / step) * step;
  if ((toMs - first) / step > MAX_FILLED_BUCKETS) return [...new Set(present)].sort((a, b) => a - b);
  const times: number[] = [];
  for (let t = first; t <= toMs; t += step) times.push(t);
  return times;
}

export function StatsPage({ params }: { params: URLSearchParams }) {
  const app = useApp();
  const search = params.toString();
  const filters = useMemo(() => {
    const parsed = parseFilters(params);
    return parsed.range === undefined && parsed.created_after === undefined && parsed.created_before === undefined ? { ...parsed, range: "24h" as const } : parsed;
  }, [search]);
  const chosenBucket = params.get("bucket");
  const [loaded, setLoaded] = useState<Loaded | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    const stop = new AbortController();
    const now = Date.now();
    const query = filtersToQuery(filters, now);
    const fromMs = typeof query.created_after === "string" ? Date.parse(query.created_after) : undefined;
    const toMs = typeof query.created_before === "string" ? Date.parse(query.created_before) : now;
    const bucket: Bucket = chosenBucket !== null && chosenBucket in BUCKETS ? (chosenBucket as Bucket) : autoBucket(toMs - (fromMs ?? toMs - RANGES["30d"]));
    const ask = (extra: Query) => ({ ...query, ...extra });
    const requests = {
      timeline: Api.url("/v1/runs/stats", ask({ bucket })),
      agents: Api.url("/v1/runs/stats", ask({ group_by: "agent_id" })),
      models: Api.url("/v1/runs/stats", ask({ group_by: "model" })),
    };
    Promise.all([
      app.api.get<StatsReport>("/v1/runs/stats", ask({ bucket }), stop.signal),
      app.api.get<StatsReport>("/v1/runs/stats", ask({ group_by: "agent_id" }), stop.signal),
      app.api.get<StatsReport>("/v1/runs/stats", ask({ group_by: "model" }), stop.signal),
    ]).then(
      ([timeline, agents, models]) => {
        setLoaded({ requests, timeline, agents, models, bucket, times: bucketTimes(timeline, bucket, fromMs, toMs) });
        setError(undefined);
      },
      (e: unknown) => {
        if (!stop.signal.aborted) setError(errorMessage(e));
      },
    );
    return () => stop.abort();
  }, [search, generation]);

  const charts = useMemo(() => {
    if (loaded === undefined) return undefined;
    const byTime = new Map(loaded.timeline.groups.map((g) => [Date.parse(g.bucket!), g]));
    const column = (pick: (g: StatsReport["groups"][number]) => number | null, empty: number | null): (number | null)[] =>
      loaded.times.map((t) => {
        const g = byTime.get(t);
        return g === undefined ? empty : pick(g);
      });
    const percentiles = (key: "duration_ns" | "ttft_ns"): ChartSeries[] =>
      (["p50", "p95", "p99"] as const).map((p) => ({ label: p, color: PERCENTILE_COLORS[p], values: column((g) => g[key][p], null) }));
    return {
      runs: Object.keys(STATUS_COLORS).map((status) => ({ label: status, color: STATUS_COLORS[status]!, values: column((g) => g.by_status[status] ?? 0, 0) })),
      errorRate: [{ label: "error rate", color: "#dc2626", values: column((g) => g.error_rate, null) }],
      duration: percentiles("duration_ns"),
      ttft: percentiles("ttft_ns"),
      tokens: [
        { label: "prompt", color: "#6366f1", values: column((g) => g.tokens.prompt, 0) },
        { label: "completion", color: "#14b8a6", values: column((g) => g.tokens.completion, 0) },
      ],
    };
  }, [loaded]);

  const setBucket = (bucket: string) => {
    const next = new URLSearchParams(params);
    if (bucket === "") next.delete("bucket");
    else next.set("bucket", bucket);
    navigate(withParams("/stats", next));
  };

  const summary = loaded?.timeline.summary;
  const durationNs = (v: number) => formatDurationNs(v);
  return (
    <section aria-labelledby="stats-title">
      <div class="page-head">
        <h1 id="stats-title">Stats</h1>
        <label class="inline">
          <span>Bucket</span>
          <select value={chosenBucket ?? ""} onChange={(e) => setBucket((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">Automatic{loaded !== undefined && chosenBucket === null ? ` (${loaded.bucket})` : ""}</option>
            <option value="minute">Minute</option>
            <option value="hour">Hour</option>
            <option value="day">Day</option>
          </select>
        </label>
        <button type="button" class="quiet" onClick={() => setGeneration((g) => g + 1)}>Refresh</button>
      </div>
      <FilterBar filters={filters} allowAnyTime={false} onChange={(f) => navigate(withParams("/stats", filtersToParams(f, params)))} />
      {error !== undefined && <p class="error" role="alert">Could not load statistics: {error}</p>}
      {loaded === undefined && error === undefined && <p class="muted" role="status">Loading statistics…</p>}
      {loaded !== undefined && summary !== undefined && charts !== undefined && (
        <>
          <dl class="summary" aria-label="Summary">
            <div><dt>Runs</dt><dd>{formatNumber(summary.runs)}</dd></div>
            <div><dt>Error rate</dt><dd>{formatPercent(summary.error_rate)}</dd></div>
            <div><dt>Duration p50 / p95</dt><dd>{formatDurationNs(summary.duration_ns.p50)} / {formatDurationNs(summary.duration_ns.p95)}</dd></div>
            <div><dt>TTFT p50</dt><dd>{formatDurationNs(summary.ttft_ns.p50)}</dd></div>
            <div><dt>Tokens</dt><dd>{formatNumber(summary.tokens.total)}</dd></div>
            <div><dt>Steps per run</dt><dd>{summary.steps.avg_per_run}</dd></div>
          </dl>
          <div class="cards">
            <article class="card" aria-labelledby="c-runs">
              <h2 id="c-runs">Runs per {loaded.bucket} by status</h2>
              <Chart label="Runs by status" times={loaded.times} series={charts.runs} stacked format={(v) => formatNumber(Math.round(v))} />
              <ApiRequest url={loaded.requests.timeline} />
            </article>
            <article class="card" aria-labelledby="c-errors">
              <h2 id="c-errors">Error rate</h2>
              <Chart label="Error rate" times={loaded.times} series={charts.errorRate} format={formatPercent} />
              <ApiRequest url={loaded.requests.timeline} />
            </article>
            <article class="card" aria-labelledby="c-duration">
              <h2 id="c-duration">Duration percentiles</h2>
              <Chart label="Duration percentiles" times={loaded.times} series={charts.duration} format={durationNs} />
              <ApiRequest url={loaded.requests.timeline} />
            </article>
            <article class="card" aria-labelledby="c-ttft">
              <h2 id="c-ttft">Time to first token percentiles</h2>
              <Chart label="Time to first token percentiles" times={loaded.times} series={charts.ttft} format={durationNs} />
              <ApiRequest url={loaded.requests.timeline} />
            </article>
            <article class="card" aria-labelledby="c-tokens">
              <h2 id="c-tokens">Tokens</h2>
              <Chart label="Tokens" times={loaded.times} series={charts.tokens} stacked format={(v) => formatNumber(Math.round(v))} />
              <ApiRequest url={loaded.requests.timeline} />
            </article>
            <article class="card" aria-labelledby="c-tools">
              <h2 id="c-tools">Top tools</h2>
              <TopTools tools={loaded.timeline.top_tools} />
              <ApiRequest url={loaded.requests.timeline} />
            </article>
            <article class="card wide" aria-labelledby="c-agents">
              <h2 id="c-agents">Top agents</h2>
              <GroupTable report={loaded.agents} kind="agent" />
              <ApiRequest url={loaded.requests.agents} />
            </article>
            <article class="card wide" aria-labelledby="c-models">
              <h2 id="c-models">Top models</h2>
              <GroupTable report={loaded.models} kind="model" />
              <ApiRequest url={loaded.requests.models} />
            </article>
          </div>
        </>
      )}
    </section>
  );
}
