/**
 * Server-sent events over a hijacked Fastify reply: headers once, then `data:` blocks
 * (optionally with `id:` and `event:` lines), comments as keep-alives, and an AbortSignal
 * that fires when the client goes away. Writes wait for the socket to drain, so a slow
 * reader slows its own stream instead of filling this process's memory.
 */
import type { FastifyReply, FastifyRequest } from "fastify";

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
  /** Calls `tick` every `ms` until the stream closes. */
  every(ms: number, tick: () => Promise<void>): void;
  end(): void;
}

/** Streams still open, per server, so shutdown can end them instead of waiting forever. */
const openStreams = new WeakMap<object, Set<SseStream>>();

/** Ends every open stream of the server (called before it closes). */
export function endOpenStreams(server: object): void {
  for (const stream of openStreams.get(server) ?? []) stream.end();
}

export function openSse(request: FastifyRequest, reply: FastifyReply): SseStream {
  const controller = new AbortController();
  const registry = openStreams.get(request.server.server) ?? new Set<SseStream>();
  openStreams.set(request.server.server, registry);
  const raw = reply.raw;
  reply.hijack();
  raw.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    // The socket is not reused after a stream: closing it lets shutdown finish promptly.
    connection: "close",
    "x-accel-buffering": "no",
    "x-request-id": request.id,
  });
  raw.flushHeaders();
  const timers: NodeJS.Timeout[] = [];
  const close = () => {
    timers.forEach(clearInterval);
    controller.abort();
    registry.delete(stream);
  };
  request.raw.on("close", close);
  raw.on("close", close);
  raw.on("error", close);

  const write = async (text: string | Buffer) => {
    if (controller.signal.aborted || raw.writableEnded) return;
    if (!raw.write(text)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          raw.off("drain", done);
          controller.signal.removeEventListener("abort", done);
          resolve();
        };
        raw.on("drain", done);
        controller.signal.addEventListener("abort", done, { once: true });
      });
    }
  };

  const stream: SseStream = {
    signal: controller.signal,
    send(data, fields = {}) {
      return write(eventText(data, fields));
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
      if (!raw.writableEnded) raw.end();
      close();
    },
  };
  registry.add(stream);
  return stream;
}
