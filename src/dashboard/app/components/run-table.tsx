import { agentName, useApp } from "../context.js";
import { formatDurationNs, formatFullTime, formatNumber, formatTime, shortId } from "../format.js";
import { useTick } from "../live.js";
import { navigate } from "../router.js";
import { isActive, type Run, type RunMetrics } from "../types.js";
import { StatusBadge } from "./badges.js";

/** A run's duration: as recorded once it ended, or elapsed so far while it is active. */
export function runDuration(run: Run, now: number): { ns: number | null; running: boolean } {
  if (run.total_duration_ns !== null) return { ns: run.total_duration_ns, running: false };
  if (isActive(run.status)) return { ns: (now - Date.parse(run.started_at ?? run.created_at)) * 1e6, running: true };
  return { ns: null, running: false };
}

export function RunTable({ runs, metrics }: { runs: readonly Run[]; metrics: ReadonlyMap<string, RunMetrics> }) {
  const app = useApp();
  const now = useTick(runs.some((r) => isActive(r.status)));
  return (
    <div class="table-wrap">
      <table class="runs">
        <caption class="sr-only">Runs, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Status</th>
            <th scope="col">Agent</th>
            <th scope="col">Stop reason</th>
            <th scope="col">Created</th>
            <th scope="col" class="num">Duration</th>
            <th scope="col" class="num">TTFT</th>
            <th scope="col" class="num">Steps</th>
            <th scope="col" class="num">Tokens</th>
            <th scope="col">Tags</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run, i) => {
            const m = metrics.get(run.id);
            const duration = runDuration(run, now);
            return (
              <tr
                key={run.id}
                data-run-id={run.id}
                class={run.status === "failed" ? "row-failed" : undefined}
                onClick={(e) => {
                  if ((e.target as Element).closest("a, button") === null) navigate(`/runs/${run.id}`);
                }}
              >
                <td data-label="Run" {...(i === 0 ? { elementtiming: "runs-first-row" } : {})}>
                  <a href={`/runs/${run.id}`} class="mono" title={run.id}>
                    {shortId(run.id)}
                  </a>
                </td>
                <td data-label="Status"><StatusBadge status={run.status} /></td>
                <td data-label="Agent" class="clip" title={run.agent_id}>{agentName(app, run.agent_id)}</td>
                <td data-label="Stop reason">{run.stop_reason ?? "—"}</td>
                <td data-label="Created"><time dateTime={run.created_at} title={formatFullTime(run.created_at)}>{formatTime(run.created_at)}</time></td>
                <td data-label="Duration" class="num">{formatDurationNs(duration.ns)}{duration.running ? "…" : ""}</td>
                <td data-label="TTFT" class="num">{formatDurationNs(run.ttft_ns)}</td>
                <td data-label="Steps" class="num">{m === undefined ? "…" : formatNumber(m.num_steps)}</td>
                <td data-label="Tokens" class="num">{m === undefined ? "…" : formatNumber(m.total_tokens)}</td>
                <td data-label="Tags">
                  {run.tags.length === 0 ? "—" : run.tags.map((t) => <span key={t} class="tag">{t}</span>)}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
