import type { RunMetrics } from "../../core/model.js";
import type { RunStatus } from "../../core/run-lifecycle.js";
import { type Executor, type SqlParam, write } from "../executor.js";
import { json, param } from "../sql-values.js";
import { numberOrNull } from "./runs.js";

/** Token counts a step adds to its run; null means the provider did not report it. */
export interface UsageDelta {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_input_tokens: number | null;
  cache_write_tokens: number | null;
  reasoning_tokens: number | null;
}

const NULLABLE_TOTALS = ["cached_input_tokens", "cache_write_tokens", "reasoning_tokens"] as const;

export class RunMetricsRepo {
  constructor(private readonly db: Executor) {}

  async insert(metrics: RunMetrics & { organization_id: string }): Promise<void> {
    await write(
      this.db,
      "run_metrics",
      `INSERT INTO run_metrics (id, organization_id, agent_id, project_id, base_template_id, run_start_ns, tools_used)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [
        metrics.id, metrics.organization_id, metrics.agent_id, metrics.project_id, metrics.base_template_id,
        metrics.run_start_ns, param(metrics.tools_used),
      ],
    );
  }

  async get(organizationId: string, runId: string): Promise<RunMetrics | undefined> {
    const row = await this.db.get("SELECT * FROM run_metrics WHERE id = ? AND organization_id = ?", [runId, organizationId]);
    return row && toRunMetrics(row);
  }

  /**
   * Adds a step's tokens (and `steps` to num_steps) to the running totals, so reading a
   * run's usage never has to scan its steps. A nullable total stays null until some step
   * reports it.
   */
  async addUsage(runId: string, delta: UsageDelta, steps: number): Promise<void> {
    const assignments = [
      "num_steps = num_steps + ?",
      "prompt_tokens = prompt_tokens + ?",
      "completion_tokens = completion_tokens + ?",
      "total_tokens = total_tokens + ?",
    ];
    const params: SqlParam[] = [steps, delta.prompt_tokens, delta.completion_tokens, delta.total_tokens];
    for (const column of NULLABLE_TOTALS) {
      const value = delta[column];
      if (value === null) continue;
      assignments.push(`${column} = COALESCE(${column}, 0) + ?`);
      params.push(value);
    }
    await write(this.db, "run_metrics", `UPDATE run_metrics SET ${assignments.join(", ")} WHERE id = ?`, [...params, runId]);
  }

  /**
   * Copies the run's new status into its metrics row (with run_ns on entering a terminal
   * status), in the transition's transaction: the statistics count and sum by status from
   * run_metrics alone.
   */
  async recordTransition(runId: string, status: RunStatus, runNs?: number): Promise<void> {
    if (runNs === undefined) await write(this.db, "run_metrics", "UPDATE run_metrics SET status = ? WHERE id = ?", [status, runId]);
    else await write(this.db, "run_metrics", "UPDATE run_metrics SET status = ?, run_ns = ? WHERE id = ?", [status, runNs, runId]);
  }

  /** Adds tool names not yet recorded. Callers hold the run's row lock, so the read-merge-write cannot race. */
  async addTools(runId: string, names: readonly string[]): Promise<void> {
    const row = await this.db.get<{ tools_used: unknown }>("SELECT tools_used FROM run_metrics WHERE id = ?", [runId]);
    if (row === undefined) return;
    const known = json<string[]>(row.tools_used);
    const added = [...new Set(names)].filter((n) => !known.includes(n));
    if (added.length === 0) return;
    await this.db.run("UPDATE run_metrics SET tools_used = ? WHERE id = ?", [param([...known, ...added]), runId]);
  }
}

export function toRunMetrics(row: Record<string, unknown>): RunMetrics {
  return {
    id: row.id as string,
    agent_id: row.agent_id as string,
    project_id: (row.project_id as string | null) ?? null,
    base_template_id: (row.base_template_id as string | null) ?? null,
    run_start_ns: Number(row.run_start_ns),
    run_ns: numberOrNull(row.run_ns),
    num_steps: Number(row.num_steps),
    tools_used: json<string[]>(row.tools_used),
    prompt_tokens: Number(row.prompt_tokens),
    completion_tokens: Number(row.completion_tokens),
    total_tokens: Number(row.total_tokens),
    cached_input_tokens: numberOrNull(row.cached_input_tokens),
    cache_write_tokens: numberOrNull(row.cache_write_tokens),
    reasoning_tokens: numberOrNull(row.reasoning_tokens),
  };
}
