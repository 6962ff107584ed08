/** The streams bench's markdown: one function per table, fed by the scenarios' results. */
import { summarizeProfile } from "../cpuprofile-summary.js";
import { ROOT } from "../proc.js";
import { fmt, markdownTable, summarize } from "../stats.js";
import { BIG, RATE, SUSTAINED_WRITES, TARGET_CANCEL_MS, TARGET_P99_MS, WINDOW_MS, WRITES } from "./context.js";
import type { Measurement, Recorder } from "./measure.js";
import type { SqliteMemory } from "./memory-sqlite.js";
import type { CancelResult } from "./postgres.js";

export function latencyTable(recorder: Recorder): string {
  return [
    `### Write → SSE delivery latency (${WRITES} message appends at ${RATE}/s, one run)`,
    "",
    markdownTable(
      ["backend", "subscribers", "setup", "delivered", "p50 ms", "p99 ms", "max ms", `p99 < ${TARGET_P99_MS} ms`],
      recorder.latencyRows.map((r) => {
        const s = r.group.latencies.length > 0 ? summarize(r.group.latencies) : undefined;
        return [
          r.backend,
          r.subscribers,
          r.where,
          `${fmt((100 * r.group.delivered) / Math.max(1, r.group.expected), 2)}% (${fmt(r.group.delivered)}/${fmt(r.group.expected)})` +
            (r.group.outOfOrder > 0 ? `, ${fmt(r.group.outOfOrder)} out of order` : ""),
          s ? fmt(s.p50, 1) : "–",
          s ? fmt(s.p99, 1) : "–",
          s ? fmt(s.max, 1) : "–",
          s && s.p99 < TARGET_P99_MS && r.group.delivered === r.group.expected ? "yes" : "no",
        ];
      }),
    ),
  ].join("\n");
}

/** The sustained SQLite measurement, latency by the 10 s window its writes were sent in. */
export function sustainedTable(sustained: Measurement): string {
  const group = sustained.groups[0]!;
  const windows = new Map<number, number[]>();
  for (let i = 0; i < group.latencies.length; i++) {
    const w = Math.floor((group.sent[i]! - sustained.start) / WINDOW_MS);
    let list = windows.get(w);
    if (list === undefined) windows.set(w, (list = []));
    list.push(group.latencies[i]!);
  }
  return [
    `### Sustained: SQLite, ${fmt(BIG)} subscribers, ${fmt(SUSTAINED_WRITES)} writes at ${RATE}/s, by send time`,
    "",
    markdownTable(
      ["writes sent during", "pairs", "p50 ms", "p99 ms", "max ms"],
      [...windows.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([w, list]) => {
          const s = summarize(list);
          return [`${(w * WINDOW_MS) / 1000}–${((w + 1) * WINDOW_MS) / 1000} s`, fmt(list.length), fmt(s.p50, 1), fmt(s.p99, 1), fmt(s.max, 1)];
        }),
    ),
  ].join("\n");
}

export function cpuTable(recorder: Recorder): string {
  return [
    "### CPU during the write phase (share of one core) and write request latency",
    "",
    markdownTable(["backend", "subscribers", "setup", "CPU by process", "machine (2 cores)", "unrelated processes", "write p50 / p99 ms", "write errors"], recorder.cpuRows),
  ].join("\n");
}

export function memoryTable({ states, idleCpu }: SqliteMemory): string {
  const base = states[0];
  if (base === undefined) return "";
  const mib = (bytes: number) => fmt(bytes / 2 ** 20, 1);
  const out = [
    "### Server memory per idle subscriber (SQLite, one run's /events; forced full GC, then VmRSS median of 5 samples 0.5 s apart)",
    "",
    markdownTable(
      ["state", "RSS MiB", "RSS samples MiB", "V8 heap used MiB", "RSS Δ per subscriber vs 0", "heap Δ per subscriber vs 0"],
      states.map((m) => [
        m.state,
        mib(m.rssKiB * 1024),
        m.rssSamples.map((k) => mib(k * 1024)).join(", "),
        mib(m.heapUsed),
        m.subscribers > 0 ? `${fmt((m.rssKiB - base.rssKiB) / m.subscribers, 1)} KiB` : "",
        m.subscribers > 0 ? `${fmt((m.heapUsed - base.heapUsed) / 1024 / m.subscribers, 1)} KiB` : "",
      ]),
    ),
  ];
  if (states.length >= 4) {
    const [, , two, held] = states;
    const minutes = (held!.at - two!.at) / 60_000;
    out.push(
      "",
      `Idle growth with ${fmt(held!.subscribers)} idle subscribers over ${fmt(minutes * 60)} s: V8 heap ` +
        `${fmt((held!.heapUsed - two!.heapUsed) / 2 ** 20, 2)} MiB (${fmt((held!.heapUsed - two!.heapUsed) / held!.subscribers / minutes)} B per subscriber per minute), ` +
        `RSS ${fmt((held!.rssKiB - two!.rssKiB) / 1024, 1)} MiB; server CPU while idle ${fmt(idleCpu * 100)}% of a core.`,
    );
  }
  if (states.length >= 3) {
    const [, one, two] = states;
    const n = two!.subscribers - one!.subscribers;
    out.push("", `Marginal cost of the second ${fmt(n)}: RSS ${fmt((two!.rssKiB - one!.rssKiB) / n, 1)} KiB, V8 heap ${fmt((two!.heapUsed - one!.heapUsed) / 1024 / n, 1)} KiB per subscriber.`);
  }
  return out.join("\n");
}

export function cancelTable(cancels: readonly CancelResult[]): string {
  return [
    "### Cancel → producer AbortSignal (PostgreSQL, track() over HTTP on A)",
    "",
    markdownTable(
      ["path", "reps", "aborted", "p50 ms", "p99 ms", "max ms", `p99 < ${TARGET_CANCEL_MS} ms`],
      cancels.map((c) => {
        const s = c.latencies.length > 0 ? summarize(c.latencies) : undefined;
        return [
          c.label,
          String(c.latencies.length + c.missed),
          String(c.latencies.length),
          s ? fmt(s.p50, 1) : "–",
          s ? fmt(s.p99, 1) : "–",
          s ? fmt(s.max, 1) : "–",
          s && s.p99 < TARGET_CANCEL_MS && c.missed === 0 ? "yes" : "no",
        ];
      }),
    ),
  ].join("\n");
}

export function profileSection(profile: string): string {
  return [
    `### CPU profile of the SQLite server over all its latency runs (${profile.replace(`${ROOT}/`, "")})`,
    "",
    summarizeProfile(profile, ["followRun", "list", "send", "write", "publish", "wake", "transaction", "append", "get", "openSse"]),
  ].join("\n");
}
