/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof` or the inspector): where the
 * sampled time went, by area (runledger's src/, node's http/net internals, pg, …), the top
 * functions by self time, and the inclusive time of chosen functions (synchronous work
 * only: an async function's time is what ran between its awaits).
 *
 *   npx tsx bench/cpuprofile-summary.ts <file.cpuprofile> [function names…]
 */
import { readFileSync } from "node:fs";
import { fmt, markdownTable } from "./stats.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const DEFAULT_FOCUS = ["attempt", "claim", "send", "liveSecrets", "recordAttempt", "claimDue", "signatureHeader", "transaction", "query"];

function area(node: ProfileNode): string {
  const { functionName, url } = node.callFrame;
  if (url === "") {
    if (functionName.startsWith("(")) return functionName;
    return "native / builtin";
  }
  const src = /\/src\/(.+)$/.exec(url);
  if (src && !url.includes("node_modules")) return `src/${src[1]}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `node_modules/${pkg[1]}`;
  if (url.startsWith("node:")) {
    const module = url.slice(5);
    if (/^internal\/(http|_http)|^_http|^http/.test(module)) return "node: http";
    if (/net|stream_base|tcp|dns/.test(module)) return "node: net / streams";
    if (/stream/.test(module)) return "node: streams";
    if (/timers|process\/task_queues|async_hooks|promise/.test(module)) return "node: timers / microtasks";
    return `node: ${module}`;
  }
  if (url.includes("/bench/")) return "bench (load generator / receiver)";
  return url;
}

export function summarizeProfile(file: string, focus: readonly string[] = DEFAULT_FOCUS): string {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idle = [...selfUs].filter(([id]) => byId.get(id)!.callFrame.functionName === "(idle)").reduce((a, [, us]) => a + us, 0);
  const busy = total - idle;

  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const a = area(node);
    areas.set(a, (areas.get(a) ?? 0) + us);
    const where = node.callFrame.url === "" ? "" : ` (${area(node)})`;
    const key = `${node.callFrame.functionName || "(anonymous)"}${where}`;
    functions.set(key, (functions.get(key) ?? 0) + us);
    // Inclusive: every focused function on this sample's stack, once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame;
      if (!focus.includes(frame.functionName)) continue;
      const k = `${frame.functionName} (${area(byId.get(cur)!)})`;
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  const pct = (us: number) => `${fmt((100 * us) / Math.max(1, busy), 1)}%`;
  const ms = (us: number) => fmt(us / 1000);
  const lines: string[] = [];
  lines.push(`Profile span ${ms(profile.endTime - profile.startTime)} ms; sampled busy ${ms(busy)} ms, idle ${ms(idle)} ms. Shares are of busy time.`);
  lines.push("");
  lines.push(
    markdownTable(
      ["area (self time)", "ms", "share"],
      [...areas].filter(([a]) => a !== "(idle)").sort((x, y) => y[1] - x[1]).slice(0, 15).map(([a, us]) => [a, ms(us), pct(us)]),
    ),
  );
  lines.push("");
  lines.push(
    markdownTable(
      ["function (self time)", "ms", "share"],
      [...functions].filter(([f]) => !f.startsWith("(idle)")).sort((x, y) => y[1] - x[1]).slice(0, 20).map(([f, us]) => [f.replace(/\|/g, "\\|"), ms(us), pct(us)]),
    ),
  );
  if (inclusive.size > 0) {
    lines.push("");
    lines.push(
      markdownTable(
        ["function (inclusive, synchronous parts)", "ms", "share"],
        [...inclusive].filter(([k]) => k.includes("src/")).sort((x, y) => y[1] - x[1]).slice(0, 15).map(([f, us]) => [f, ms(us), pct(us)]),
      ),
    );
  }
  return lines.join("\n");
}

if (process.argv[1]?.endsWith("cpuprofile-summary.ts")) {
  const [file, ...focus] = process.argv.slice(2);
  if (file === undefined) {
    console.error("usage: npx tsx bench/cpuprofile-summary.ts <file.cpuprofile> [function names…]");
    process.exit(2);
  }
  console.log(summarizeProfile(file, focus.length > 0 ? focus : DEFAULT_FOCUS));
}
