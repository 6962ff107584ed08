/**
 * The runs page: the organization's runs, filtered and paged from the URL, kept live by the
 * organization's event feed (any status change re-reads the page shown; a step re-reads
 * that run's figures), with a bulk cancel of everything the filters select.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import { errorMessage } from "../api.js";
import { FeedBadge } from "../components/badges.js";
import { BulkCancel } from "../components/bulk-cancel.js";
import { FilterBar } from "../components/filter-bar.js";
import { RunTable } from "../components/run-table.js";
import { useApp } from "../context.js";
import { filtersToParams, filtersToQuery, hasFilters, parseFilters } from "../filters.js";
import { useFeed, useThrottledRefresh } from "../live.js";
import { useRunMetrics } from "../metrics.js";
import { navigate, withParams } from "../router.js";
import type { Run } from "../types.js";

export const PAGE_SIZE = 50;

interface Page {
  runs: Run[];
  newer?: string;
  older?: string;
}

/**
 * Reads one page around the cursor. One extra run is asked for to learn whether there is a
 * further page; paging back from the top of a `before` page lands on the first page.
 */
function pageFrom(rows: Run[], after: string | null, before: string | null): Page | "top" {
  const more = rows.length > PAGE_SIZE;
  if (before !== null) {
    if (!more) return "top";
    const runs = rows.slice(1);
    return { runs, newer: runs[0]?.id, older: runs.at(-1)?.id };
  }
  const runs = rows.slice(0, PAGE_SIZE);
  return { runs, newer: after !== null ? runs[0]?.id : undefined, older: more ? runs.at(-1)?.id : undefined };
}

export function RunsPage({ params }: { params: URLSearchParams }) {
  const app = useApp();
  const search = params.toString();
  const filters = useMemo(() => parseFilters(params), [search]);
  const after = params.get("after");
  const before = params.get("before");
  const [page, setPage] = useState<Page | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const metrics = useRunMetrics(page?.runs ?? []);

  const load = async () => {
    try {
      const rows = await app.api.get<Run[]>("/v1/runs/", { ...filtersToQuery(filters), limit: PAGE_SIZE + 1, after, before });
      const next = pageFrom(rows, after, before);
      if (next === "top") {
        const top = new URLSearchParams(params);
        top.delete("before");
        navigate(withParams("/", top), { replace: true });
        return;
      }
      setPage(next);
      setError(undefined);
      if (app.agentsLoaded && next.runs.some((r) => !app.agents.has(r.agent_id))) app.refreshAgents();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const refresh = useThrottledRefresh(load, 150);
  useEffect(() => {
    setPage(undefined);
    refresh();
  }, [search]);

  const feedUrl = `/v1/runs/events${filters.agent_id === undefined ? "" : `?agent_id=${encodeURIComponent(filters.agent_id)}`}`;
  const feed = useFeed(feedUrl, app.api.headers(), (message) => {
    if (message.event === "status") refresh();
    else if (message.event === "step") {
      const runId = (JSON.parse(message.data) as { run_id?: string }).run_id;
      if (runId !== undefined) metrics.invalidate(runId);
    }
  }, { readyComment: "ready" });

  const go = (cursor: { after?: string; before?: string }) => {
    const next = new URLSearchParams(params);
    next.delete("after");
    next.delete("before");
    if (cursor.after !== undefined) next.set("after", cursor.after);
    if (cursor.before !== undefined) next.set("before", cursor.before);
    navigate(withParams("/", next));
  };

  return (
    <section aria-labelledby="runs-title">
      <div class="page-head">
        <h1 id="runs-title">Runs</h1>
        <FeedBadge state={feed.state} detail={feed.detail} />
        {app.canWrite && <BulkCancel filters={filters} onDone={refresh} />}
      </div>
      <FilterBar filters={filters} onChange={(f) => navigate(withParams("/", filtersToParams(f, params)))} />
      {error !== undefined && (
        <p class="error" role="alert">
          Could not load runs: {error}. {(after !== null || before !== null) && <a href={withParams("/", filtersToParams(filters, params))}>Back to the first page</a>}
        </p>
      )}
      {page === undefined && error === undefined && <p class="muted" role="status">Loading runs…</p>}
      {page !== undefined && page.runs.length === 0 && (
        <p class="empty">
          {hasFilters(filters) || after !== null ? "No runs match these filters." : "No runs yet. Runs appear here as soon as a producer creates them (POST /v1/runs)."}
        </p>
      )}
      {page !== undefined && page.runs.length > 0 && <RunTable runs={page.runs} metrics={metrics.byId} />}
      {page !== undefined && (page.newer !== undefined || page.older !== undefined) && (
        <nav class="pager" aria-label="Pages of runs">
          <button type="button" disabled={page.newer === undefined} onClick={() => go({ before: page.newer })}>← Newer</button>
          <button type="button" disabled={page.older === undefined} onClick={() => go({ after: page.older })}>Older →</button>
        </nav>
      )}
    </section>
  );
}
