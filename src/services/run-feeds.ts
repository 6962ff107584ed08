import { InvalidArgumentError } from "../core/errors.js";
import { requireId } from "../core/ids.js";
import { checkInput, checkQuery } from "../core/input.js";
import type { Actor, JsonObject, RunEvent, RunEventKind } from "../core/model.js";
import type { RunStatus } from "../core/run-lifecycle.js";
import { ChunkAppendSchema, OrganizationEventsSchema, RunEventsSchema } from "../core/schemas/streams.js";
import { nowIso } from "../core/time.js";
import { LIMITS, uniqueStrings } from "../core/validate.js";
import type { EventBus } from "../events/bus.js";
import { type FollowOptions, followOrganization, followRun } from "../events/follow.js";
import { SharedRunReads } from "../events/shared-reads.js";
import type { Store } from "../store/store.js";
import { requireWriter } from "./access.js";
import { lockActiveRun } from "./active-run.js";
import { runNotFound } from "./runs.js";

export interface OrganizationFeedQuery {
  agent_ids?: readonly string[] | null;
  statuses?: readonly RunStatus[] | null;
  tags?: readonly string[] | null;
}

/** Live and replayable views of runs' event logs, and raw stream chunks from producers. */
export class RunFeedService {
  private readonly reads: SharedRunReads;

  constructor(private readonly store: Store, readonly bus: EventBus) {
    this.reads = new SharedRunReads(store);
  }

  /**
   * The run's events after `afterSeq`, then live ones, until the run ends (the generator's
   * return value is its final status) or `options.signal` aborts.
   */
  async followRun(
    actor: Actor,
    runId: string,
    afterSeq: number,
    options: FollowOptions & { kinds?: readonly RunEventKind[] },
  ): Promise<AsyncGenerator<RunEvent, RunStatus | undefined>> {
    requireId("run", runId);
    const { kinds } = checkQuery(RunEventsSchema, { after: afterSeq, kinds: options.kinds });
    if ((await this.store.read.runs.get(actor.organization_id, runId)) === undefined) throw runNotFound(runId);
    return followRun(this.reads, this.bus, actor.organization_id, runId, afterSeq, { ...options, kinds });
  }

  /** The organization's events (of runs matching the filter) after event id `afterId`, or from now. */
  followOrganization(actor: Actor, query: OrganizationFeedQuery, afterId: number | undefined, options: FollowOptions): AsyncGenerator<RunEvent, void> {
    const checked = checkQuery(OrganizationEventsSchema, { agent_id: query.agent_ids, statuses: query.statuses, tags: query.tags, after: afterId });
    const agentIds = checked.agent_id?.map((id) => requireId("agent", id, "agent_id"));
    const filter = { agent_ids: agentIds, statuses: checked.statuses, tags: uniqueStrings(checked.tags) };
    return followOrganization(this.store, this.bus, actor.organization_id, filter, afterId, options);
  }

  /**
   * Appends raw stream chunks (token deltas in LettaMessage shape) to an active run's
   * stream. They are streamed to followers and replayable, but are not stored as messages.
   */
  async appendChunks(actor: Actor, runId: string, chunks: readonly unknown[]): Promise<RunEvent[]> {
    requireWriter(actor);
    requireId("run", runId);
    checkInput(ChunkAppendSchema, { chunks });
    chunks.forEach((chunk, i) => {
      if (Buffer.byteLength(JSON.stringify(chunk)) > LIMITS.jsonBytes) throw new InvalidArgumentError(`chunks.${i} is larger than ${LIMITS.jsonBytes} bytes`);
    });
    return this.store.transaction(async (tx) => {
      const now = nowIso();
      const locked = await lockActiveRun(tx, actor, runId, chunks.length, "stream chunks", now);
      const first = locked.lastSeqId - chunks.length + 1;
      const events: RunEvent[] = chunks.map((chunk, i) => ({
        run_id: runId,
        seq_id: first + i,
        kind: "chunk",
        created_at: now,
        event: { ...(chunk as JsonObject), run_id: runId, seq_id: first + i },
      }));
      await tx.events.insertMany(actor.organization_id, events);
      return events;
    });
  }
}
