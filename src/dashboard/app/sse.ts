/**
 * Server-sent events over fetch, because EventSource cannot send an Authorization header.
 * A dropped connection is retried with backoff from the last event id (Last-Event-ID), so
 * a follower resumes exactly where it left off; the caller hears whether it is live.
 */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

export type FeedState = "connecting" | "live" | "reconnecting" | "ended" | "failed";

export interface FollowOptions {
  headers: Record<string, string>;
  /** Resume after this event id. */
  lastEventId?: string;
  onMessage(message: SseMessage): void;
  onState(state: FeedState, detail?: string): void;
  /** A comment line (`: ready`) the stream sends once attached. Without one, the first byte counts. */
  readyComment?: string;
  /** An event after which the stream is over and is not reopened. */
  endEvent?: string;
  signal: AbortSignal;
}

/** Splits an SSE byte stream into messages (the WHATWG rules: multi-line data, comments, ids). */
export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private id: string | undefined;

  constructor(private readonly emit: (message: SseMessage) => void, private readonly comment: (text: string) => void) {}

  push(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, newline);
      const width = this.buffer.startsWith("\r\n", newline) ? 2 : 1;
      this.buffer = this.buffer.slice(newline + width);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === "") {
      if (this.data.length > 0) this.emit({ id: this.id, event: this.event || "message", data: this.data.join("\n") });
      this.data = [];
      this.event = "";
      return;
    }
    if (line.startsWith(":")) {
      this.comment(line.slice(1).trim());
      return;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id") this.id = value;
  }
}

const delay = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/** Follows `url` until the signal aborts, the end event arrives, or the server refuses (4xx). */
export async function followSse(url: string, options: FollowOptions): Promise<void> {
  let lastEventId = options.lastEventId;
  let failures = 0;
  options.onState("connecting");
  while (!options.signal.aborted) {
    let ended = false;
    try {
      const response = await fetch(url, {
        headers: { ...options.headers, accept: "text/event-stream", ...(lastEventId === undefined ? {} : { "last-event-id": lastEventId }) },
        signal: options.signal,
        cache: "no-store",
      });
      if (response.status >= 400 && response.status < 500 && response.status !== 429) {
        const body = (await response.json().catch(() => ({}))) as { detail?: string };
        options.onState("failed", body.detail ?? `the server answered ${response.status}`);
        return;
      }
      if (!response.ok || response.body === null) throw new Error(`the server answered ${response.status}`);
      let live = false;
      const goLive = () => {
        if (live) return;
        live = true;
        failures = 0;
        options.onState("live");
      };
      if (options.readyComment === undefined) goLive();
      const parser = new SseParser(
        (message) => {
          if (message.id !== undefined) lastEventId = message.id;
          goLive();
          if (options.endEvent !== undefined && message.event === options.endEvent) ended = true;
          options.onMessage(message);
        },
        (comment) => {
          if (comment === options.readyComment) goLive();
        },
      );
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
      }
    } catch (error) {
      if (options.signal.aborted) return;
      void error;
    }
    if (ended) {
      options.onState("ended");
      return;
    }
    if (options.signal.aborted) return;
    failures++;
    options.onState("reconnecting");
    await delay(Math.min(5_000, 250 * 2 ** Math.min(failures, 5)), options.signal);
  }
}
