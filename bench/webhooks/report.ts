/** The webhook scenarios' table rows and progress lines. */
import { fmt, markdownTable, summarize } from "../stats.js";
import type { Backend, Outcome } from "./setup.js";

export const HEADERS = ["backend", "measurement", "delivered", "completions/s", "deliveries/s", "p50 ms", "p99 ms", "max ms", "attempts / duplicates / errors", "unrelated CPU"];

export function backendName(backend: Backend): string {
  return backend === "sqlite" ? "SQLite" : "PostgreSQL";
}

export function row(o: Outcome): (string | number)[] {
  const s = o.latencies.length > 0 ? summarize(o.latencies) : undefined;
  return [
    backendName(o.backend),
    o.label,
    `${fmt(o.delivered)}/${fmt(o.n)}`,
    o.completionRate === undefined ? "–" : fmt(o.completionRate),
    fmt(o.perSecond),
    s ? fmt(s.p50, 1) : "–",
    s ? fmt(s.p99, 1) : "–",
    s ? fmt(s.max, 1) : "–",
    `${fmt(o.attempts)} / ${fmt(o.duplicates)} / ${fmt(o.errors)}`,
    o.otherLoad === undefined ? "–" : `${fmt(o.otherLoad * 100)}%`,
  ];
}

export function table(outcomes: readonly Outcome[]): string {
  return markdownTable(HEADERS, outcomes.map(row));
}

/** One line on stderr per measurement, as it finishes. */
export function log(o: Outcome): void {
  const s = o.latencies.length > 0 ? summarize(o.latencies) : undefined;
  console.error(
    `  ${o.backend} ${o.label}: ${o.delivered}/${o.n}, ${fmt(o.perSecond)}/s (completions ${o.completionRate === undefined ? "–" : fmt(o.completionRate)}/s)` +
      (s ? `, p50 ${fmt(s.p50, 1)} p99 ${fmt(s.p99, 1)} ms` : "") +
      `, attempts ${o.attempts}, dup ${o.duplicates}`,
  );
}
