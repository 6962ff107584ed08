/** The crash bench's output: figures and violations by kind per scenario, then PASS or FAIL. */
import { fmt, markdownTable, summarize } from "../stats.js";
import type { Outcome } from "./http.js";
import type { Violations } from "./checks.js";

export interface Section {
  title: string;
  figures: [string, string][];
  violations: Violations;
}

export function statusCounts(counts: ReadonlyMap<Outcome, number>): string {
  const entries = [...counts.entries()].sort(([a], [b]) => String(a).localeCompare(String(b)));
  return entries.map(([status, n]) => `${String(status)}: ${fmt(n)}`).join(", ") || "none";
}

export function latencyLine(samples: readonly number[]): string {
  if (samples.length === 0) return "no samples";
  const s = summarize(samples);
  return `p50 ${fmt(s.p50, 1)} ms, p99 ${fmt(s.p99, 1)} ms, max ${fmt(s.max, 1)} ms (${samples.length})`;
}

export function countsLine(map: ReadonlyMap<string, number>): string {
  return [...map.entries()].map(([k, v]) => `${k}: ${fmt(v)}`).join(", ") || "none";
}

/** The rules the checks apply, printed before the results. */
export const RULES = [
  "Acknowledged = answered 2xx, or on a retry recognised as already there (409 'already exists' for a step or message id, the same run for an Idempotency-Key).",
  "Every acknowledged run, step (id, tokens), message (id, content) and terminal status is in the database; nothing is there that was neither acknowledged nor in doubt (sent, answer lost).",
  "Usage: a run's prompt/completion/total tokens and step_count equal the sum over its stored steps; so they lie between the acknowledged steps' sum and that plus the steps in doubt.",
  "Liveness: within 90 s after the load no run is active (the reaper ends abandoned ones).",
  "Webhooks: every run has a delivery answered 2xx; all deliveries of one run carry one webhook-id and the run's final status.",
  "Streams: each followed stream, resumed with Last-Event-ID or starting_after after every break, holds each seq_id of the run's full log (of its kinds) exactly once, in order.",
  "Outage (scale-out): requests while PostgreSQL restarts get 2xx or 503 with {detail, code} and Retry-After; a 500, a 10 s client timeout or a refused connection is a violation.",
];

export function printRules(): void {
  console.log(["### Rules", "", ...RULES.map((r) => `- ${r}`), ""].join("\n"));
}

export function printSection(section: Section): void {
  const out: string[] = [`### ${section.title}`, "", markdownTable(["figure", "value"], section.figures), ""];
  if (section.violations.total === 0) {
    out.push("Violations: none.");
  } else {
    out.push(markdownTable(["violation", "count", "first examples"], [...section.violations.byKind].map(([kind, list]) => [kind, list.length, list.slice(0, 3).join("; ").replace(/\|/g, "/").replace(/\n/g, " ").slice(0, 600)])));
  }
  console.log(`${out.join("\n")}\n`);
}

/** Prints the verdict; true when nothing was violated. */
export function verdict(sections: readonly Section[]): boolean {
  const total = sections.reduce((n, s) => n + s.violations.total, 0);
  console.log(total === 0 ? "PASS: no violations." : `FAIL: ${total} violation${total === 1 ? "" : "s"}.`);
  return total === 0;
}
