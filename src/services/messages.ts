import { ConflictError, InvalidArgumentError, ValidationError } from "../core/errors.js";
import { newId, requireId } from "../core/ids.js";
import { checkInput, checkQuery } from "../core/input.js";
import { type LettaMessage, type MessageType, toolNames, validateMessage, type MessageInput } from "../core/letta-messages.js";
import { MessageAppendSchema, MessageListSchema } from "../core/schemas/messages.js";
import type { Actor } from "../core/model.js";
import { nowIso, toIso } from "../core/time.js";
import type { UnsequencedMessage } from "../store/repos/message-append.js";
import type { Repos } from "../store/repos.js";
import type { Store } from "../store/store.js";
import { requireWriter } from "./access.js";
import { inactiveRunError } from "./active-run.js";
import { type PageInput, resolvePage } from "./paging.js";
import { runNotFound } from "./runs.js";

export interface MessageListQuery extends PageInput {
  message_types?: readonly MessageType[] | null;
}

export class MessageService {
  constructor(private readonly store: Store) {}

  /**
   * Appends a batch of LettaMessages to an active run, in order. Each gets the run's next
   * sequence number (its seq_id, shared with the run's event stream), an id if it has none,
   * and a date if it has none. Tool calls extend the run's tools_used. All or nothing.
   */
  async append(actor: Actor, runId: string, input: readonly unknown[]): Promise<LettaMessage[]> {
    requireWriter(actor);
    requireId("run", runId);
    const { messages: batch } = checkInput(MessageAppendSchema, { messages: input });
    const problems: string[] = [];
    const bodies = batch.map((m, i) => validateMessage(m, `messages.${i}`, problems));
    if (problems.length > 0) throw new ValidationError(problems);
    const valid = bodies as MessageInput[];
    const givenIds = valid.map((m) => m.id).filter((id): id is string => typeof id === "string");
    if (new Set(givenIds).size !== givenIds.length) throw new InvalidArgumentError("the batch repeats a message id; ids must be unique");
    const stepIds = [...new Set(valid.map((m) => m.step_id).filter((id): id is string => typeof id === "string"))];

    const tools = [...new Set(valid.flatMap(toolNames))];

    return this.store.transaction(async (tx) => {
      const now = nowIso();
      const messages: UnsequencedMessage[] = valid.map((body) => ({
        ...body,
        id: typeof body.id === "string" ? body.id : newId("message"),
        message_type: body.message_type as MessageType,
        date: typeof body.date === "string" ? toIso(body.date) : now,
        run_id: runId,
        step_id: typeof body.step_id === "string" ? body.step_id : null,
      }));
      const result = await tx.messageAppends.append({
        organizationId: actor.organization_id,
        runId,
        now,
        messages,
        stepIds,
        tools,
        audit: { api_key_id: actor.api_key_id ?? null, action: "messages.append", details: { count: messages.length } },
      });
      if (result.kind === "inactive") throw await inactiveRunError(tx, actor, runId, "append messages");
      if (result.kind === "refused") {
        const [missing] = result.missingStepIds;
        if (missing !== undefined) throw new InvalidArgumentError(`step_id ${missing} is not a step of run ${runId}; record the step first`);
        throw await takenIdsConflict(tx, actor, givenIds, result.insertedIds);
      }
      return result.messages;
    });
  }

  /** A run's messages, oldest first unless `order` says otherwise. */
  async list(actor: Actor, runId: string, input: MessageListQuery = {}): Promise<LettaMessage[]> {
    requireId("run", runId);
    const query = checkQuery(MessageListSchema, input);
    const read = this.store.read;
    if ((await read.runs.get(actor.organization_id, runId)) === undefined) throw runNotFound(runId);
    const types = query.message_types;
    const page = await resolvePage(query, "message", "asc", (id) => read.messages.cursor(actor.organization_id, runId, id));
    return read.messages.list(actor.organization_id, runId, types, page);
  }
}

/** Only a producer's own ids can be taken; those of another organization are not named as existing. */
async function takenIdsConflict(tx: Repos, actor: Actor, givenIds: readonly string[], inserted: readonly string[]): Promise<ConflictError> {
  const landed = new Set(inserted);
  const taken = givenIds.filter((id) => !landed.has(id));
  const own = await tx.messages.existingIds(actor.organization_id, taken);
  if (own.length > 0) return new ConflictError(`message ids already exist: ${own.join(", ")}; omit id to let the server assign one`);
  return new ConflictError(`message ids cannot be used: ${taken.join(", ")}; omit id to let the server assign one`);
}
