import { agentName, useApp } from "../context.js";
import { formatDurationNs, formatNumber, formatPercent } from "../format.js";
import type { StatsReport } from "../types.js";

const TOP = 10;

/** Bars drawn in HTML, so they are read out as the list they are. */
export function TopTools({ tools }: { tools: StatsReport["top_tools"] }) {
  if (tools.length === 0) return <p class="empty">No tool calls in these runs.</p>;
  const most = Math.max(...tools.map((t) => t.runs));
  return (
    <ol class="bars">
      {tools.map((t) => (
        <li key={t.tool}>
          <span class="bar-label mono">{t.tool}</span>
          <span class="bar-track" aria-hidden="true"><span class="bar-fill" style={{ width: `${(t.runs / most) * 100}%` }} /></span>
          <span class="num">{formatNumber(t.runs)} runs</span>
        </li>
      ))}
    </ol>
  );
}

export function GroupTable({ report, kind }: { report: StatsReport; kind: "agent" | "model" }) {
  const app = useApp();
  const groups = [...report.groups].sort((a, b) => b.runs - a.runs).slice(0, TOP);
  if (groups.length === 0) return <p class="empty">No runs.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">{kind === "agent" ? "Agent" : "Model"}</th>
            <th scope="col" class="num">Runs</th>
            <th scope="col" class="num">Error rate</th>
            <th scope="col" class="num">Duration p50</th>
            <th scope="col" class="num">Duration p95</th>
            <th scope="col" class="num">Tokens</th>
          </tr>
        </thead>
        <tbody>
          {groups.map((g) => {
            const name = g.group === null || g.group === undefined ? "(none)" : kind === "agent" ? agentName(app, g.group) : g.group;
            return (
              <tr key={g.group ?? ""}>
                <td data-label={kind === "agent" ? "Agent" : "Model"}>
                  {kind === "agent" && g.group ? <a href={`/?agent_id=${encodeURIComponent(g.group)}`}>{name}</a> : name}
                </td>
                <td data-label="Runs" class="num">{formatNumber(g.runs)}</td>
                <td data-label="Error rate" class="num">{formatPercent(g.error_rate)}</td>
                <td data-label="Duration p50" class="num">{formatDurationNs(g.duration_ns.p50)}</td>
                <td data-label="Duration p95" class="num">{formatDurationNs(g.duration_ns.p95)}</td>
                <td data-label="Tokens" class="num">{formatNumber(g.tokens.total)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
