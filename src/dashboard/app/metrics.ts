/**
 * Each listed run's steps and tokens, from GET /v1/runs/{id}/metrics (the list carries the
 * Letta run shape, which has neither). A few reads at a time; an ended run's figures no
 * longer change, so they are kept for the session; an active run's are read again when a
 * step or status event says they moved.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { useApp } from "./context.js";
import { isActive, type Run, type RunMetrics } from "./types.js";

const CONCURRENCY = 6;
const settled = new Map<string, RunMetrics>();

export function useRunMetrics(runs: readonly Run[]): { byId: ReadonlyMap<string, RunMetrics>; invalidate(runId: string): void } {
  const app = useApp();
  const [byId, setById] = useState<ReadonlyMap<string, RunMetrics>>(new Map());
  const stale = useRef(new Set<string>());
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let cancelled = false;
    const known = new Map<string, RunMetrics>();
    const wanted: Run[] = [];
    for (const run of runs) {
      const cached = settled.get(run.id) ?? byId.get(run.id);
      if (cached !== undefined) known.set(run.id, cached);
      if (!settled.has(run.id) && (cached === undefined || stale.current.has(run.id) || isActive(run.status) || cached.run_ns === null)) wanted.push(run);
    }
    for (const run of wanted) stale.current.delete(run.id);
    setById(known);
    const queue = [...wanted];
    // Answers are applied together once per frame: fifty answers cost a few renders, not fifty.
    const arrived = new Map<string, RunMetrics>();
    let frame = 0;
    const flush = () => {
      frame = 0;
      if (cancelled || arrived.size === 0) return;
      const batch = new Map(arrived);
      arrived.clear();
      setById((prev) => new Map([...prev, ...batch]));
    };
    const worker = async () => {
      for (let run = queue.shift(); run !== undefined && !cancelled; run = queue.shift()) {
        try {
          const m = await app.api.get<RunMetrics>(`/v1/runs/${run.id}/metrics`);
          if (!isActive(run.status)) settled.set(run.id, m);
          arrived.set(run.id, m);
          if (frame === 0) frame = requestAnimationFrame(flush);
        } catch {
          // A run deleted meanwhile has no metrics; its row goes at the next refresh.
        }
      }
    };
    for (let i = 0; i < CONCURRENCY; i++) void worker();
    return () => {
      cancelled = true;
      if (frame !== 0) cancelAnimationFrame(frame);
    };
  }, [runs, version]);

  return {
    byId,
    invalidate(runId) {
      if (!runs.some((r) => r.id === runId)) return;
      settled.delete(runId);
      stale.current.add(runId);
      setVersion((v) => v + 1);
    },
  };
}
