import type { FastifyInstance, FastifyRequest } from "fastify";
import { type Static, Type } from "typebox";
import { InvalidArgumentError } from "../../core/errors.js";
import { checkJsonValue } from "../../core/input.js";
import { nowIso } from "../../core/time.js";
import type { RunEvent } from "../../core/model.js";
import type { Ledger } from "../../ledger.js";
import { errorResponses } from "../schemas/common.js";
import { ChunkAppendSchema, OrganizationEventsSchema, RunEventsSchema, RunStreamSchema } from "../../core/schemas/streams.js";
import { StoredEvent } from "../schemas/streams.js";
import { formatSseEvent, type SseStream, type SseStreams } from "../sse.js";
import { RunParams } from "../schemas/params.js";

export interface StreamOptions {
  /** Keep-alive period of open streams. */
  pingIntervalMs: number;
  /** The server's event streams: per-key caps and per-stream buffers. */
  streams: SseStreams;
}

const sseResponse = {
  200: { description: "text/event-stream", content: { "text/event-stream": { schema: { type: "string" } } } },
};

function lastEventId(request: FastifyRequest, fromQuery: number | undefined): number | undefined {
  const header = request.headers["last-event-id"];
  if (typeof header === "string" && header !== "") {
    const value = Number(header);
    if (!Number.isInteger(value) || value < 0) throw new InvalidArgumentError(`Last-Event-ID '${header}' is not an event id from this stream`);
    return value;
  }
  return fromQuery;
}

/**
 * A run's event as an SSE block, formatted and encoded once however many streams send it:
 * followers of a run share the event objects they read (events/shared-reads.ts). One cache
 * per wire format.
 */
function formattedOnce(format: (event: RunEvent) => Buffer): (event: RunEvent) => Buffer {
  const blocks = new WeakMap<RunEvent, Buffer>();
  return (event) => {
    let block = blocks.get(event);
    if (block === undefined) {
      block = format(event);
      blocks.set(event, block);
    }
    return block;
  };
}

/** Letta's stream: plain `data:` events. */
const lettaBlock = formattedOnce((event) => formatSseEvent(JSON.stringify(event.event)));
/** The standard feed: `id: <seq_id>` and `event: <kind>`. */
const feedBlock = formattedOnce((event) => formatSseEvent(JSON.stringify(event.event), { id: event.seq_id, event: event.kind }));

/** Streams never answer with a status after they start: a failure mid-stream is an error event. */
async function failStream(sse: SseStream, runId: string | undefined, error: unknown, letta: boolean): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  const body = letta ? { message_type: "error_message", error_type: "internal_error", message, run_id: runId } : { message };
  await sse.send(JSON.stringify(body), { event: "error" }).catch(() => {});
}

/** Live and resumable views of runs, and the producer's raw chunk stream. */
export function streamRoutes(ledger: Ledger, options: StreamOptions) {
  return async (app: FastifyInstance) => {
    app.post<{ Params: Static<typeof RunParams>; Body: Static<typeof RunStreamSchema> | undefined }>(
      "/v1/runs/:run_id/stream",
      {
        schema: {
          tags: ["streams"],
          summary: "Stream a run in Letta's format (resumable with starting_after)",
          description:
            "Plain `data:` events: the run's messages and stream chunks (each with seq_id and run_id), replayed after `starting_after` and then live; when the run ends a `stop_reason` event, a `usage_statistics` event and `data: [DONE]`.",
          params: RunParams,
          body: Type.Union([RunStreamSchema, Type.Null()]),
          response: { ...sseResponse, ...errorResponses },
        },
      },
      async (request, reply) => {
        const runId = request.params.run_id;
        const body = request.body ?? {};
        // No service takes this body whole (agent_id, otid and run_id are ignored), so its text is checked here.
        checkJsonValue(body);
        await ledger.runs.get(request.actor, runId);
        const sse = options.streams.start(request, reply);
        try {
          if (body.include_pings) {
            sse.every(options.pingIntervalMs, () => sse.ping(JSON.stringify({ message_type: "ping", id: `ping-${Date.now()}`, date: nowIso(), run_id: runId })));
          }
          const events = await ledger.feeds.followRun(request.actor, runId, body.starting_after ?? 0, {
            signal: sse.signal,
            kinds: ["message", "chunk"],
            pollIntervalMs: body.poll_interval == null ? undefined : Math.max(50, body.poll_interval * 1000),
            batchSize: body.batch_size ?? undefined,
          });
          let next = await events.next();
          while (!next.done) {
            await sse.sendFormatted(lettaBlock(next.value));
            next = await events.next();
          }
          if (next.value !== undefined) {
            const run = await ledger.runs.get(request.actor, runId);
            const usage = await ledger.runs.usage(request.actor, runId);
            await sse.send(JSON.stringify({ message_type: "stop_reason", stop_reason: run.stop_reason }));
            const { prompt_tokens_details: _p, completion_tokens_details: _c, ...totals } = usage;
            await sse.send(JSON.stringify({ message_type: "usage_statistics", ...totals, run_ids: [runId] }));
            await sse.send("[DONE]");
          }
        } catch (error) {
          request.log.error({ err: error, run_id: runId }, "run stream failed");
          await failStream(sse, runId, error, true);
        } finally {
          sse.end();
        }
      },
    );

    app.get<{ Params: Static<typeof RunParams>; Querystring: Static<typeof RunEventsSchema> }>(
      "/v1/runs/:run_id/events",
      {
        schema: {
          tags: ["streams"],
          summary: "A run's events as standard SSE (status changes, steps, messages, chunks)",
          description:
            "Each event has `id: <seq_id>` and `event: <kind>`; reconnect with Last-Event-ID (or ?after=) to resume. After the run ends, an `end` event carries its final status and the stream closes.",
          params: RunParams,
          querystring: RunEventsSchema,
          response: { ...sseResponse, ...errorResponses },
        },
      },
      async (request, reply) => {
        const runId = request.params.run_id;
        const after = lastEventId(request, request.query.after) ?? 0;
        await ledger.runs.get(request.actor, runId);
        const sse = options.streams.start(request, reply);
        try {
          sse.every(options.pingIntervalMs, () => sse.ping());
          const events = await ledger.feeds.followRun(request.actor, runId, after, { signal: sse.signal, kinds: request.query.kinds });
          let next = await events.next();
          while (!next.done) {
            await sse.sendFormatted(feedBlock(next.value));
            next = await events.next();
          }
          if (next.value !== undefined) await sse.send(JSON.stringify({ run_id: runId, status: next.value }), { event: "end" });
        } catch (error) {
          request.log.error({ err: error, run_id: runId }, "run event feed failed");
          await failStream(sse, runId, error, false);
        } finally {
          sse.end();
        }
      },
    );

    app.get<{ Querystring: Static<typeof OrganizationEventsSchema> }>(
      "/v1/runs/events",
      {
        schema: {
          tags: ["streams"],
          summary: "The organization's run events as standard SSE, filtered by agent, status and tags",
          description:
            "Starts from now (or after Last-Event-ID / ?after=). Each event has `id:` (the resume point: the highest event id sent so far, which an event that committed late below it repeats) and `event: <kind>`; the data carries run_id and seq_id, which identify the event. Filters apply to each run as it is when the event is read.",
          querystring: OrganizationEventsSchema,
          response: { ...sseResponse, ...errorResponses },
        },
      },
      async (request, reply) => {
        const after = lastEventId(request, request.query.after);
        const query = { agent_ids: request.query.agent_id, statuses: request.query.statuses, tags: request.query.tags };
        // Created (and so validated) before the stream starts: bad filters get a 4xx, not an error event.
        const stop = new AbortController();
        let ready = () => {};
        const events = ledger.feeds.followOrganization(request.actor, query, after, { signal: stop.signal, onReady: () => ready() });
        const sse = options.streams.start(request, reply);
        // Tells the client that events committed from now on will reach it.
        ready = () => void sse.comment("ready").catch(() => {});
        sse.signal.addEventListener("abort", () => stop.abort(), { once: true });
        try {
          sse.every(options.pingIntervalMs, () => sse.ping());
          // The SSE id is where a reconnect resumes (Last-Event-ID), so it is the highest event
          // id sent so far: an event that committed late, below ids already sent, carries that
          // mark rather than its own id, or a resume after it would send the later ones again.
          let resumeAfter = after ?? 0;
          for await (const event of events) {
            resumeAfter = Math.max(resumeAfter, event.id!);
            await sse.send(JSON.stringify({ ...event.event, run_id: event.run_id, seq_id: event.seq_id }), { id: resumeAfter, event: event.kind });
          }
        } catch (error) {
          request.log.error({ err: error }, "organization event feed failed");
          await failStream(sse, undefined, error, false);
        } finally {
          sse.end();
        }
      },
    );

    app.post<{ Params: Static<typeof RunParams>; Body: Static<typeof ChunkAppendSchema> }>(
      "/v1/runs/:run_id/events",
      {
        schema: {
          tags: ["producer"],
          summary: "Append raw stream chunks (token deltas) to an active run's stream",
          description: "Chunks are streamed to followers and replayable, but not stored as messages.",
          params: RunParams,
          body: ChunkAppendSchema,
          response: { 201: Type.Array(StoredEvent), ...errorResponses },
        },
      },
      async (request, reply) => reply.code(201).send(await ledger.feeds.appendChunks(request.actor, request.params.run_id, request.body.chunks)),
    );
  };
}
