import type { DeliveryView } from "../core/reports.js";
import { ConflictError } from "../core/errors.js";
import { requireId } from "../core/ids.js";
import type { Actor } from "../core/model.js";
import { nowIso } from "../core/time.js";
import type { Repos } from "../store/repos.js";
import type { Store } from "../store/store.js";
import { generateSecret } from "./signing.js";
import { requireAdmin, requireWriter } from "../services/access.js";
import { audit } from "../services/audit.js";
import { runNotFound } from "../services/runs.js";

/** How long the previous secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

export interface SecretView {
  secret: string;
  /** While set, deliveries carry a second signature with the previous secret. */
  previous_secret_expires_at: string | null;
  rotated_at: string | null;
}

/** The organization's signing secrets in use now (created on first use): current first. */
export async function liveSecrets(tx: Repos, organizationId: string): Promise<string[]> {
  const secrets = await ensureSecrets(tx, organizationId);
  const previousLive = secrets.previous_secret !== null && secrets.previous_expires_at !== null && Date.parse(secrets.previous_expires_at) > Date.now();
  return previousLive ? [secrets.secret, secrets.previous_secret!] : [secrets.secret];
}

async function ensureSecrets(tx: Repos, organizationId: string) {
  const existing = await tx.webhooks.getSecrets(organizationId);
  if (existing !== undefined) return existing;
  await tx.webhooks.insertSecret(organizationId, generateSecret(), nowIso());
  return (await tx.webhooks.getSecrets(organizationId))!;
}

export type { DeliveryView };

/** Signing secrets, and each run's delivery log and replay. */
export class WebhookService {
  constructor(private readonly store: Store) {}

  async getSecret(actor: Actor): Promise<SecretView> {
    requireAdmin(actor);
    const secrets = await this.store.transaction((tx) => ensureSecrets(tx, actor.organization_id));
    return view(secrets);
  }

  /** A new secret; the previous one keeps signing (as a second signature) for 24 hours. */
  async rotateSecret(actor: Actor): Promise<SecretView> {
    requireAdmin(actor);
    return this.store.transaction(async (tx) => {
      await ensureSecrets(tx, actor.organization_id);
      const now = new Date();
      await audit(tx, actor, "webhook_secret.rotate");
      await tx.webhooks.rotateSecret(actor.organization_id, generateSecret(), now.toISOString(), new Date(now.getTime() + ROTATION_OVERLAP_MS).toISOString());
      return view((await tx.webhooks.getSecrets(actor.organization_id))!);
    });
  }

  /** Every delivery of the run's webhooks, with every attempt. */
  async deliveries(actor: Actor, runId: string): Promise<DeliveryView[]> {
    requireId("run", runId);
    if ((await this.store.read.runs.get(actor.organization_id, runId)) === undefined) throw runNotFound(runId);
    const deliveries = await this.store.read.webhooks.listForRun(actor.organization_id, runId);
    return deliveries.map(({ organization_id: _org, ...rest }) => rest);
  }

  /** Sends the run's latest webhook again, now, with the same webhook-id. */
  async redeliver(actor: Actor, runId: string): Promise<DeliveryView> {
    requireWriter(actor);
    requireId("run", runId);
    const delivery = await this.store.transaction(async (tx) => {
      const run = await tx.runs.get(actor.organization_id, runId);
      if (run === undefined) throw runNotFound(runId);
      const reset = await tx.webhooks.redeliverLatest(actor.organization_id, runId, nowIso());
      if (reset !== undefined) await audit(tx, actor, "webhook.redeliver", { run_id: runId, target_id: reset.id });
      if (reset === undefined) {
        throw new ConflictError(
          run.callback_url === null ? `run ${runId} has no callback_url, so it has no webhook to send` : `run ${runId} has not ended yet, so its webhook has not been created`,
        );
      }
      return reset;
    });
    const [withLog] = (await this.deliveries(actor, runId)).filter((d) => d.id === delivery.id);
    return withLog!;
  }
}

function view(secrets: { secret: string; previous_expires_at: string | null; rotated_at: string | null }): SecretView {
  const live = secrets.previous_expires_at !== null && Date.parse(secrets.previous_expires_at) > Date.now();
  return { secret: secrets.secret, previous_secret_expires_at: live ? secrets.previous_expires_at : null, rotated_at: secrets.rotated_at };
}
