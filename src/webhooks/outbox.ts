/**
 * The webhook outbox: a run that ends with a callback_url gets a delivery row written in
 * the same transaction as its terminal transition, so a crash can never leave an ended run
 * without its webhook. The dispatcher sends it afterwards, at least once.
 */
import { newId } from "../core/ids.js";
import type { Run } from "../core/model.js";
import type { Repos } from "../store/repos.js";

export async function enqueueRunWebhook(tx: Repos, organizationId: string, run: Run, now: string): Promise<void> {
  if (run.callback_url === null) return;
  const metrics = await tx.metrics.get(organizationId, run.id);
  const type = `run.${run.status}`;
  const payload = JSON.stringify({
    type,
    timestamp: now,
    run_id: run.id,
    agent_id: run.agent_id,
    status: run.status,
    stop_reason: run.stop_reason,
    completed_at: run.completed_at,
    metadata: run.metadata,
    usage: {
      prompt_tokens: metrics?.prompt_tokens ?? 0,
      completion_tokens: metrics?.completion_tokens ?? 0,
      total_tokens: metrics?.total_tokens ?? 0,
      step_count: metrics?.num_steps ?? 0,
    },
  });
  await tx.webhooks.insertDelivery({
    id: newId("delivery"),
    run_id: run.id,
    organization_id: organizationId,
    url: run.callback_url,
    event_type: type,
    payload,
    status: "pending",
    attempts: 0,
    next_attempt_at: now,
    last_status_code: null,
    last_error: null,
    created_at: now,
    delivered_at: null,
  });
}
