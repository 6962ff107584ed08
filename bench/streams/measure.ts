/**
 * One latency measurement (subscribers already attached and caught up: warm-up writes,
 * then WRITES paced appends, CPU of every process involved) and the recorder that turns
 * measurements into report rows.
 */
import { CpuWindow, sleep } from "../proc.js";
import { clock } from "../sse-subscribers.js";
import { fmt, summarize } from "../stats.js";
import { call, DRAIN_MS, paceWrites, runningRun, WARMUP_WRITES, WRITES } from "./context.js";
import { attach, localPool, type Pool } from "./pools.js";

export interface GroupResult {
  label: string;
  subscribers: number;
  expected: number;
  delivered: number;
  latencies: number[];
  sent: number[];
  outOfOrder: number;
}

export interface Measurement {
  groups: GroupResult[];
  writeLatencies: number[];
  writeErrors: number;
  /** Reference-clock time just before the first measured write. */
  start: number;
  cpu: { label: string; share: number }[];
  machine: number;
  /** CPU share (of one core) of processes that are not part of this measurement, and the top ones. */
  others: number;
  otherTop: string[];
}

export async function measure(
  groups: { label: string; pools: Pool[]; subscribers: number }[],
  writerUrl: string,
  runId: string,
  servers: { label: string; pid: number }[],
  writeCount = WRITES,
): Promise<Measurement> {
  const pools = groups.flatMap((g) => g.pools);
  const total = groups.reduce((n, g) => n + g.subscribers, 0);
  const receivedAll = async () => (await Promise.all(pools.map((p) => p.received()))).reduce((a, b) => a + b, 0);
  const drain = async (expected: number, deadline: number) => {
    while (Date.now() < deadline && (await receivedAll()) < expected) await sleep(100);
  };

  // Warm-up: a few writes, all delivered (or 10 s), not counted.
  const warmStart = clock();
  await Promise.all(pools.map((p) => p.phase(warmStart)));
  await paceWrites(writerUrl, runId, WARMUP_WRITES);
  await drain(WARMUP_WRITES * total, Date.now() + DRAIN_MS);
  await sleep(500);

  const benchPids = [...new Set(pools.map((p) => p.pid))];
  const cpu = new CpuWindow([...servers.map((s) => s.pid), ...benchPids]);
  const start = clock();
  await Promise.all(pools.map((p) => p.phase(start)));
  const writes = await paceWrites(writerUrl, runId, writeCount);
  await drain(writeCount * total, Date.now() + DRAIN_MS);
  const usage = cpu.stop();

  const results: GroupResult[] = [];
  for (const group of groups) {
    const reports = await Promise.all(group.pools.map((p) => p.report()));
    const connected = reports.reduce((n, r) => n + r.connected, 0);
    const latencies = reports.flatMap((r) => r.latencies);
    results.push({
      label: group.label,
      subscribers: connected,
      expected: writeCount * connected,
      delivered: latencies.length,
      latencies,
      sent: reports.flatMap((r) => r.sent),
      outOfOrder: reports.reduce((n, r) => n + r.outOfOrder, 0),
    });
  }
  const cpuRows = [
    ...servers.map((s) => ({ label: s.label, share: usage.perPid.get(s.pid)! })),
    ...benchPids.map((pid) => ({
      label: pid === process.pid ? "bench process" : `subscriber worker ${pools.filter((p) => p.pid === pid).map((p) => p.label).join("+")}`,
      share: usage.perPid.get(pid)!,
    })),
  ];
  const postgresShare = usage.others.filter((o) => o.name.startsWith("postgres")).reduce((n, o) => n + o.share, 0);
  if (postgresShare > 0) cpuRows.push({ label: "PostgreSQL processes", share: postgresShare });
  const others = usage.others.filter((o) => !o.name.startsWith("postgres"));
  return {
    groups: results,
    start,
    writeLatencies: writes.latencies,
    writeErrors: writes.errors,
    cpu: cpuRows,
    machine: usage.machine,
    others: others.reduce((n, o) => n + o.share, 0),
    otherTop: others.slice(0, 3).map((o) => `${o.name.replace(/^\S*node .*?(\S+\.ts)\b/, "node … $1").slice(0, 100)} ${fmt(o.share * 100)}%`),
  };
}

export interface LatencyRow {
  backend: string;
  subscribers: string;
  where: string;
  group: GroupResult;
  measurement: Measurement;
}

/** Collects the latency rows and the CPU rows of every measurement, and logs each to stderr. */
export class Recorder {
  readonly latencyRows: LatencyRow[] = [];
  readonly cpuRows: string[][] = [];

  record(backend: string, subscribers: string, where: string, m: Measurement): void {
    for (const group of m.groups) this.latencyRows.push({ backend, subscribers, where: `${where}${m.groups.length > 1 ? `, ${group.label}` : ""}`, group, measurement: m });
    const w = m.writeLatencies.length > 0 ? summarize(m.writeLatencies) : undefined;
    this.cpuRows.push([
      backend,
      subscribers,
      where,
      m.cpu.map((c) => `${c.label} ${fmt(c.share * 100)}%`).join(", "),
      `${fmt(m.machine * 100)}%`,
      `${fmt(m.others * 100)}%`,
      w ? `${fmt(w.p50, 1)} / ${fmt(w.p99, 1)}` : "–",
      String(m.writeErrors),
    ]);
    if (m.otherTop.length > 0) console.error(`  other load: ${m.otherTop.join("; ")}`);
    for (const group of m.groups) {
      const s = group.latencies.length > 0 ? summarize(group.latencies) : undefined;
      console.error(
        `  ${backend} ${subscribers} ${where} ${group.label}: delivered ${group.delivered}/${group.expected}` +
          (s ? `, p50 ${fmt(s.p50, 1)} p99 ${fmt(s.p99, 1)} max ${fmt(s.max, 1)} ms` : ""),
      );
    }
  }
}

/** Warms a server up (JIT, statement cache, SSE path) with a few subscribers and writes on a throwaway run. */
export async function warmUp(baseUrl: string, agentId: string): Promise<void> {
  const warmRun = await runningRun(baseUrl, agentId);
  const warmPool = localPool("warm-up", 100);
  await attach([{ pool: warmPool, count: 50 }], `${baseUrl}/v1/runs/${warmRun}/events`);
  await paceWrites(baseUrl, warmRun, 20);
  await call(baseUrl, "PATCH", `/v1/runs/${warmRun}`, { status: "completed" });
  await warmPool.close();
}
