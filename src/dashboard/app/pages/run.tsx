/** The run page: header, then tabs for steps, messages, details and webhook deliveries. */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { errorMessage } from "../api.js";
import { FeedBadge, StatusBadge } from "../components/badges.js";
import { Confirm } from "../components/confirm.js";
import { JsonView } from "../components/json-view.js";
import { MessageList } from "../components/messages.js";
import { runDuration } from "../components/run-table.js";
import { Tabs } from "../components/tabs.js";
import { Waterfall } from "../components/waterfall.js";
import { Webhooks } from "../components/webhooks.js";
import { agentName, useApp } from "../context.js";
import { formatDurationNs, formatFullTime, formatNumber } from "../format.js";
import { useTick } from "../live.js";
import { navigate, withParams } from "../router.js";
import { useRunData } from "../run-data.js";
import { isActive, type Run, type Usage } from "../types.js";

const TABS = [
  { id: "steps", label: "Steps" },
  { id: "messages", label: "Messages" },
  { id: "details", label: "Details" },
  { id: "webhooks", label: "Webhooks" },
] as const;
type TabId = (typeof TABS)[number]["id"];

function Figure({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="figure">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function RunActions({ run, onChanged }: { run: Run; onChanged(): void }) {
  const app = useApp();
  const [asking, setAsking] = useState<"cancel" | "delete" | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | undefined>(undefined);
  if (!app.canWrite) return null;
  const act = async () => {
    setBusy(true);
    try {
      if (asking === "cancel") {
        await app.api.post(`/v1/runs/${run.id}/cancel`);
        onChanged();
      } else {
        await app.api.delete(`/v1/runs/${run.id}`);
        navigate("/");
        return;
      }
      setAsking(undefined);
    } catch (e) {
      setMessage(errorMessage(e));
      setAsking(undefined);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="actions">
      {isActive(run.status) && <button type="button" class="danger" onClick={() => setAsking("cancel")}>Cancel run</button>}
      <button type="button" class="danger-outline" onClick={() => setAsking("delete")}>Delete run</button>
      {message !== undefined && <span class="error" role="alert">{message}</span>}
      {asking === "cancel" && (
        <Confirm title="Cancel this run?" confirm="Cancel run" cancel="Keep it running" danger busy={busy} onConfirm={() => void act()} onCancel={() => setAsking(undefined)}>
          <p>The run moves to <code>cancelled</code> at once and its producer is told to stop.</p>
        </Confirm>
      )}
      {asking === "delete" && (
        <Confirm title="Delete this run?" confirm="Delete run" cancel="Keep it" danger busy={busy} onConfirm={() => void act()} onCancel={() => setAsking(undefined)}>
          <p>The run is deleted with its steps, messages, metrics, events and webhook deliveries. This cannot be undone.</p>
        </Confirm>
      )}
    </div>
  );
}

function RunHeader({ run, usage, feed, onChanged }: { run: Run; usage?: Usage; feed: ReturnType<typeof useRunData>["feed"]; onChanged(): void }) {
  const app = useApp();
  const now = useTick(isActive(run.status));
  const duration = runDuration(run, now);
  const parts = (u: Usage) => [u.cached_input_tokens !== null && `${formatNumber(u.cached_input_tokens)} cached`, u.reasoning_tokens !== null && `${formatNumber(u.reasoning_tokens)} reasoning`].filter(Boolean).join(", ");
  return (
    <header class="run-head">
      <div class="page-head">
        <h1>
          Run <span class="mono">{run.id}</span>
        </h1>
        <StatusBadge status={run.status} />
        {run.stop_reason !== null && <span class="stop-reason">{run.stop_reason}</span>}
        <FeedBadge state={feed.state} detail={feed.detail} />
        <RunActions run={run} onChanged={onChanged} />
      </div>
      {run.error !== null && (
        <div class="run-error" role="note" aria-label="Run error">
          <strong>{run.error.type}</strong>: {run.error.message}
          {run.error.details !== undefined && run.error.details !== null && <JsonView value={run.error.details} label="error details" />}
        </div>
      )}
      <dl class="figures">
        <Figure label="Agent"><a href={withParams("/", new URLSearchParams({ agent_id: run.agent_id }))} title={run.agent_id}>{agentName(app, run.agent_id)}</a></Figure>
        <Figure label="Created"><time dateTime={run.created_at}>{formatFullTime(run.created_at)}</time></Figure>
        <Figure label="Started">{formatFullTime(run.started_at)}</Figure>
        <Figure label="Completed">{formatFullTime(run.completed_at)}</Figure>
        <Figure label="Duration">{formatDurationNs(duration.ns)}{duration.running ? " so far" : ""}</Figure>
        <Figure label="Time to first token">{formatDurationNs(run.ttft_ns)}</Figure>
        <Figure label="Steps">{usage === undefined ? "…" : formatNumber(usage.step_count)}</Figure>
        <Figure label="Tokens">
          {usage === undefined ? "…" : (
            <>
              {formatNumber(usage.total_tokens)}
              <span class="muted"> ({formatNumber(usage.prompt_tokens)} prompt, {formatNumber(usage.completion_tokens)} completion{parts(usage) ? `; ${parts(usage)}` : ""})</span>
            </>
          )}
        </Figure>
        {isActive(run.status) && <Figure label="Last heartbeat">{formatFullTime(run.last_heartbeat_at)}</Figure>}
      </dl>
    </header>
  );
}

function Details({ run }: { run: Run }) {
  const rows: [string, unknown][] = [
    ["Background", run.background ? "yes" : "no"],
    ["Tags", run.tags.length === 0 ? "—" : run.tags.join(", ")],
    ["Conversation", run.conversation_id],
    ["Project", run.project_id],
    ["Template", run.base_template_id],
    ["Idempotency key", run.idempotency_key],
    ["Callback URL", run.callback_url],
    ["TTL in created", run.ttl_s === null ? null : `${run.ttl_s} s`],
    ["Max duration", run.max_duration_s === null ? null : `${run.max_duration_s} s`],
    ["Heartbeat timeout", run.heartbeat_timeout_s === null ? null : `${run.heartbeat_timeout_s} s`],
    ["Cancel requested", run.cancel_requested_at === null ? null : formatFullTime(run.cancel_requested_at)],
    ["Updated", formatFullTime(run.updated_at)],
  ];
  return (
    <div class="details">
      <dl class="figures">
        {rows.map(([label, value]) => (
          <Figure key={label} label={label}>{value === null || value === undefined ? "—" : String(value)}</Figure>
        ))}
      </dl>
      <h2>Metadata</h2>
      <JsonView value={run.metadata} label="metadata" />
      <h2>Request config</h2>
      {run.request_config === null ? <p class="muted">None.</p> : <JsonView value={run.request_config} label="request config" />}
    </div>
  );
}

export function RunPage({ runId, params }: { runId: string; params: URLSearchParams }) {
  const data = useRunData(runId);
  const tab: TabId = (TABS.find((t) => t.id === params.get("tab"))?.id ?? "steps");
  const setTab = (id: TabId) => {
    const next = new URLSearchParams(params);
    if (id === "steps") next.delete("tab");
    else next.set("tab", id);
    navigate(withParams(`/runs/${runId}`, next), { replace: true });
  };

  if (data.notFound) {
    return (
      <section>
        <h1>Run not found</h1>
        <p>No run <span class="mono">{runId}</span> in this organization. It may have been deleted, or belong to another organization. <a href="/">Back to runs</a></p>
      </section>
    );
  }
  if (data.run === undefined) return data.error === undefined ? <p class="muted" role="status">Loading run…</p> : <p class="error" role="alert">Could not load the run: {data.error}</p>;
  const run = data.run;
  return (
    <section aria-label={`Run ${run.id}`}>
      <p class="crumbs"><a href="/">← Runs</a></p>
      <RunHeader run={run} usage={data.usage} feed={data.feed} onChanged={data.reload} />
      {data.error !== undefined && <p class="error" role="alert">{data.error}</p>}
      <Tabs tabs={TABS} selected={tab} onSelect={setTab} counts={{ steps: data.steps.length, messages: data.messagesComplete ? data.messages.length : undefined, webhooks: data.deliveries?.length }}>
        {tab === "steps" && <Waterfall run={run} steps={data.steps} />}
        {tab === "messages" && <MessageList data={data} />}
        {tab === "details" && <Details run={run} />}
        {tab === "webhooks" && <Webhooks run={run} deliveries={data.deliveries} onRefresh={data.refreshDeliveries} />}
      </Tabs>
    </section>
  );
}
