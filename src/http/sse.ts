/**
 * Server-sent events over a hijacked Fastify reply: headers once, then `data:` blocks
 * (optionally with `id:` and `event:` lines), comments as keep-alives, and an AbortSignal
 * that fires when the stream closes for any reason.
 *
 * Slow readers: what the socket has not taken yet waits in this process. A stream writes
 * freely while less than `bufferBytes` waits (bursts and replays go out at full speed);
 * the write that passes it waits for the socket to drain, so the follower behind it reads
 * nothing more from the database meanwhile. A reader that takes nothing of that full
 * buffer for `stallMs` has stopped reading: its connection is closed, the signal
 * aborts, the follower stops, and the client resumes from its last event id
 * (`Last-Event-ID`, `starting_after`) on a new connection. Every event is in the run's
 * log, so nothing is lost. A stream never holds more than its buffer plus one event, so a
 * process holds at most (open streams × (buffer + one event)) for its readers, however slow.
 *
 * Each API key may hold `maxPerKey` streams open in this process; opening one more is 429.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { OutgoingHttpHeaders } from "node:http";
import { StreamSlots } from "./stream-slots.js";

export const DEFAULT_MAX_STREAMS_PER_KEY = 100;
export const DEFAULT_STREAM_BUFFER_BYTES = 1024 * 1024;
export const DEFAULT_STREAM_STALL_MS = 30_000;
/** Above Node's socket high-water mark (16 KiB), so that a full buffer always ends in 'drain'. */
export const MIN_STREAM_BUFFER_BYTES = 64 * 1024;

export interface SseFields {
  id?: string | number;
  event?: string;
}

/** One SSE event block: optional `id:` and `event:` lines, then `data:`, encoded once. */
export function formatSseEvent(data: string, fields: SseFields = {}): Buffer {
  return Buffer.from(eventText(data, fields));
}

function eventText(data: string, fields: SseFields): string {
  let block = "";
  if (fields.id !== undefined) block += `id: ${fields.id}\n`;
  if (fields.event !== undefined) block += `event: ${fields.event}\n`;
  return `${block}data: ${data}\n\n`;
}

export interface SseStream {
  readonly signal: AbortSignal;
  send(data: string, fields?: SseFields): Promise<void>;
  /** Writes an event already formatted by `formatSseEvent` (one encoding shared by many streams). */
  sendFormatted(block: Buffer): Promise<void>;
  comment(text: string): Promise<void>;
  /** A keep-alive (a `: ping` comment, or this data event), skipped while the reader is behind. */
  ping(data?: string): Promise<void>;
  /** Calls `tick` every `ms` until the stream closes. */
  every(ms: number, tick: () => Promise<void>): void;
  end(): void;
}

export interface SseLimits {
  /** Open streams per API key in this process; 0 for no cap. */
  maxPerKey: number;
  /** Bytes a stream may hold unsent; past them it waits for the reader. */
  bufferBytes: number;
  /** How long a stream waits for a reader that has its full buffer to take before closing it. */
  stallMs: number;
}

/** What the streams report, for the server's metrics. */
export interface SseTelemetry {
  streamOpened(): void;
  streamClosed(): void;
  /** A stream was closed because its reader fell more than the buffer behind. */
  slowReaderClosed(): void;
  /** The bytes a stream holds unsent right after a write. */
  streamBuffered(bytes: number): void;
  /** A stream was refused: its key had its cap open. */
  streamRefused(): void;
}

/** The event streams of one server: their caps, their buffers, and ending them all at shutdown. */
export class SseStreams {
  private readonly open = new Set<SseStream>();
  private readonly slots: StreamSlots;

  constructor(private readonly limits: SseLimits, private readonly telemetry: SseTelemetry) {
    this.slots = new StreamSlots(limits.maxPerKey);
  }

  /** Ends every open stream (called before the server closes, so in-flight requests can drain). */
  endAll(): void {
    for (const stream of this.open) stream.end();
  }

  /**
   * Starts the event stream of `request`, or throws `TooManyRequestsError` (before anything
   * is sent, so the error mapper answers it) when the caller's key has its cap open.
   */
  start(request: FastifyRequest, reply: FastifyReply): SseStream {
    let release: () => void;
    try {
      release = this.slots.acquire(request.actor.api_key_id ?? request.actor.organization_id);
    } catch (error) {
      this.telemetry.streamRefused();
      throw error;
    }
    const controller = new AbortController();
    const raw = reply.raw;
    // Headers the hooks set (RateLimit-*) go out with the stream's own.
    const hookHeaders = reply.getHeaders() as OutgoingHttpHeaders;
    reply.hijack();
    raw.writeHead(200, {
      ...hookHeaders,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      // The socket is not reused after a stream: closing it lets shutdown finish promptly.
      connection: "close",
      "x-accel-buffering": "no",
      "x-request-id": request.id,
    });
    raw.flushHeaders();
    this.telemetry.streamOpened();
    const timers: NodeJS.Timeout[] = [];
    const close = () => {
      if (controller.signal.aborted) return;
      timers.forEach(clearInterval);
      controller.abort();
      this.open.delete(stream);
      release();
      this.telemetry.streamClosed();
    };
    request.raw.on("close", close);
    raw.on("close", close);
    raw.on("error", close);
    // A client that left while the route was still checking its request has closed already.
    if (raw.destroyed || request.raw.socket?.destroyed === true) queueMicrotask(close);

    const { bufferBytes, stallMs } = this.limits;
    // While the reader has more than the buffer to take, nothing more is written: the
    // follower waits here, reading nothing, until the socket drains or the reader is dropped.
    let behind = false;
    // Resolves true when the socket drains, false when it took nothing for `stallMs`. The
    // verdict waits one more turn of the event loop, so that a loop that was busy gets to
    // write to the socket (and hear its drain) before the reader is judged.
    const waitForReader = () =>
      new Promise<boolean>((resolve) => {
        let settled = false;
        let mark = raw.writableLength;
        let timer: NodeJS.Timeout;
        const finish = (drained: boolean) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          raw.off("drain", onDrain);
          controller.signal.removeEventListener("abort", onDrain);
          resolve(drained);
        };
        const onDrain = () => finish(true);
        const judge = () => {
          if (settled) return;
          if (raw.writableLength >= mark) return finish(false);
          mark = raw.writableLength;
          timer = setTimeout(() => setImmediate(judge), stallMs);
        };
        timer = setTimeout(() => setImmediate(judge), stallMs);
        raw.on("drain", onDrain);
        controller.signal.addEventListener("abort", onDrain, { once: true });
      });
    const write = async (text: string | Buffer, keepAlive = false): Promise<void> => {
      if (controller.signal.aborted || raw.writableEnded || raw.destroyed) return;
      // A keep-alive is pointless while data waits for the reader, and would grow the buffer.
      if (keepAlive && behind) return;
      raw.write(text);
      const buffered = raw.writableLength;
      this.telemetry.streamBuffered(buffered);
      if (buffered <= bufferBytes || !raw.writableNeedDrain) return;
      behind = true;
      const drained = await waitForReader();
      behind = false;
      if (drained || controller.signal.aborted) return;
      this.telemetry.slowReaderClosed();
      request.log.warn(
        { buffered_bytes: raw.writableLength, buffer_bytes: bufferBytes, stall_ms: stallMs },
        "closed an event stream whose reader took nothing of its full buffer in time",
      );
      raw.destroy();
      close();
    };

    const stream: SseStream = {
      signal: controller.signal,
      send(data, fields = {}) {
        return write(eventText(data, fields));
      },
      ping(data) {
        return write(data === undefined ? ": ping\n\n" : eventText(data, {}), true);
      },
      sendFormatted(block) {
        return write(block);
      },
      comment(text) {
        return write(`: ${text}\n\n`);
      },
      every(ms, tick) {
        const timer = setInterval(() => {
          tick().catch(close);
        }, ms);
        timers.push(timer);
      },
      end() {
        // Ended while waiting for its reader (at shutdown): the reader would hold the socket open.
        if (behind) raw.destroy();
        else if (!raw.writableEnded && !raw.destroyed) raw.end();
        close();
      },
    };
    this.open.add(stream);
    return stream;
  }
}
