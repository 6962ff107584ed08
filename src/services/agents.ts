import { ConflictError, InvalidArgumentError, NotFoundError } from "../core/errors.js";
import { newId, requireId } from "../core/ids.js";
import type { Actor, Agent, JsonObject } from "../core/model.js";
import { nowIso } from "../core/time.js";
import { checkInput, checkQuery } from "../core/input.js";
import { AgentCreateSchema, AgentListSchema, AgentUpdateSchema } from "../core/schemas/agents.js";
import { optionalJsonObject } from "../core/validate.js";
import type { Store } from "../store/store.js";
import { requireWriter } from "./access.js";
import { audit } from "./audit.js";
import { type PageInput, resolvePage } from "./paging.js";

export interface AgentCreateInput {
  /** Producers that already have Letta agent ids may register them under the same id. */
  id?: string | null;
  name: string;
  metadata?: JsonObject | null;
}

export interface AgentUpdateInput {
  name?: string | null;
  metadata?: JsonObject | null;
}

/** The minimal agent registry: runs must belong to a registered agent of the organization. */
export class AgentService {
  constructor(private readonly store: Store) {}

  async create(actor: Actor, input: AgentCreateInput): Promise<Agent> {
    requireWriter(actor);
    const body = checkInput(AgentCreateSchema, input);
    const name = body.name;
    if (name.trim() === "") throw new InvalidArgumentError("name must not be blank");
    const now = nowIso();
    const agent: Agent = {
      id: body.id == null ? newId("agent") : requireId("agent", body.id, "id"),
      name,
      metadata: optionalJsonObject(body.metadata, "metadata") ?? {},
      created_at: now,
      updated_at: now,
      last_stop_reason: null,
      last_run_completion: null,
      last_run_duration_ms: null,
    };
    const inserted = await this.store.transaction(async (tx) => {
      const ok = await tx.agents.insert({ ...agent, organization_id: actor.organization_id });
      if (ok) await audit(tx, actor, "agent.create", { target_id: agent.id });
      return ok;
    });
    if (!inserted) throw new ConflictError(`agent ${agent.id} already exists`);
    return agent;
  }

  async get(actor: Actor, agentId: string): Promise<Agent> {
    requireId("agent", agentId);
    const agent = await this.store.read.agents.get(actor.organization_id, agentId);
    if (agent === undefined) throw new NotFoundError(`agent ${agentId} not found`);
    return agent;
  }

  async list(actor: Actor, input: PageInput & { name?: string | null } = {}): Promise<Agent[]> {
    const query = checkQuery(AgentListSchema, input);
    const read = this.store.read;
    const name = query.name;
    const page = await resolvePage(query, "agent", "asc", (id) => read.agents.cursor(actor.organization_id, id));
    return read.agents.list(actor.organization_id, name, page);
  }

  /** Renames the agent and/or shallow-merges its metadata. */
  async update(actor: Actor, agentId: string, input: AgentUpdateInput): Promise<Agent> {
    requireWriter(actor);
    requireId("agent", agentId);
    const body = checkInput(AgentUpdateSchema, input);
    const name = body.name ?? undefined;
    if (name !== undefined && name.trim() === "") throw new InvalidArgumentError("name must not be blank");
    const metadata = optionalJsonObject(body.metadata, "metadata");
    const updated = await this.store.transaction(async (tx) => {
      const agent = await tx.agents.get(actor.organization_id, agentId);
      if (agent === undefined) return undefined;
      await audit(tx, actor, "agent.update", { target_id: agentId });
      return tx.agents.update(actor.organization_id, agentId, {
        ...(name === undefined ? {} : { name }),
        ...(metadata === undefined ? {} : { metadata: { ...agent.metadata, ...metadata } }),
        updated_at: nowIso(),
      });
    });
    if (updated === undefined) throw new NotFoundError(`agent ${agentId} not found`);
    return updated;
  }

  /** Deletes the agent and, in the same transaction, all of its runs with their steps and messages. */
  async delete(actor: Actor, agentId: string): Promise<void> {
    requireWriter(actor);
    requireId("agent", agentId);
    const deleted = await this.store.transaction(async (tx) => {
      if ((await tx.agents.get(actor.organization_id, agentId)) === undefined) return false;
      const runs = await tx.runs.deleteByAgent(actor.organization_id, agentId);
      await audit(tx, actor, "agent.delete", { target_id: agentId, details: { runs_deleted: runs } });
      return tx.agents.delete(actor.organization_id, agentId);
    });
    if (!deleted) throw new NotFoundError(`agent ${agentId} not found`);
  }
}
