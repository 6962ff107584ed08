/** The run's webhook deliveries with every attempt, and a redeliver button. */
import { useEffect, useState } from "preact/hooks";
import { errorMessage } from "../api.js";
import { useApp } from "../context.js";
import { formatFullTime, formatTime } from "../format.js";
import type { Delivery, Run } from "../types.js";
import { JsonView } from "./json-view.js";

const PENDING = new Set(["pending", "failed"]);

export function Webhooks({ run, deliveries, onRefresh }: { run: Run; deliveries?: Delivery[]; onRefresh(): void }) {
  const app = useApp();
  const [message, setMessage] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const waiting = deliveries?.some((d) => PENDING.has(d.status)) ?? false;

  // A delivery still to be sent changes by itself: look again every few seconds while shown.
  useEffect(() => {
    if (!waiting) return;
    const timer = setInterval(onRefresh, 3000);
    return () => clearInterval(timer);
  }, [waiting]);

  if (run.callback_url === null && (deliveries?.length ?? 0) === 0) {
    return <p class="empty">This run has no callback URL, so no webhook is sent when it ends.</p>;
  }
  if (deliveries === undefined) return <p class="muted" role="status">Loading deliveries…</p>;

  const redeliver = async () => {
    setBusy(true);
    setMessage(undefined);
    try {
      await app.api.post(`/v1/runs/${run.id}/callbacks/redeliver`);
      setMessage("Queued for delivery now, with the same webhook-id.");
      onRefresh();
    } catch (e) {
      setMessage(`Redeliver failed: ${errorMessage(e)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="webhooks">
      <div class="waterfall-bar">
        <span>
          Callback URL <span class="mono">{run.callback_url ?? "—"}</span>
        </span>
        <button type="button" class="quiet" onClick={onRefresh}>Refresh</button>
        {app.canWrite && deliveries.length > 0 && (
          <button type="button" onClick={() => void redeliver()} disabled={busy}>Redeliver</button>
        )}
        {message !== undefined && <span role="status" class="muted">{message}</span>}
      </div>
      {deliveries.length === 0 && <p class="empty">No delivery yet: one is queued when the run ends.</p>}
      {deliveries.map((d) => (
        <section key={d.id} class="delivery" aria-label={`Delivery ${d.id}`}>
          <h3>
            <span class={`badge delivery-${d.status}`}>{d.status}</span> {d.event_type} <span class="muted mono">webhook-id {d.id}</span>
          </h3>
          <p class="muted">
            Queued {formatFullTime(d.created_at)} · {d.attempts} attempt{d.attempts === 1 ? "" : "s"}
            {d.delivered_at !== null ? ` · delivered ${formatFullTime(d.delivered_at)}` : PENDING.has(d.status) ? ` · next attempt ${formatFullTime(d.next_attempt_at)}` : ""}
          </p>
          {d.attempt_log.length > 0 && (
            <div class="table-wrap">
              <table class="attempts">
                <caption class="sr-only">Attempts of delivery {d.id}</caption>
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">Sent</th>
                    <th scope="col" class="num">Took</th>
                    <th scope="col" class="num">Status code</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">Error</th>
                  </tr>
                </thead>
                <tbody>
                  {d.attempt_log.map((a) => (
                    <tr key={a.attempt}>
                      <td data-label="#">{a.attempt}</td>
                      <td data-label="Sent"><time dateTime={a.started_at} title={formatFullTime(a.started_at)}>{formatTime(a.started_at)}</time></td>
                      <td data-label="Took" class="num">{a.duration_ms} ms</td>
                      <td data-label="Status code" class="num">{a.status_code ?? "—"}</td>
                      <td data-label="Outcome">{a.outcome}</td>
                      <td data-label="Error" class="clip" title={a.error ?? undefined}>{a.error ?? "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <details>
            <summary>Payload</summary>
            <JsonView value={d.payload} label="payload" />
          </details>
        </section>
      ))}
    </div>
  );
}
