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
