/**
 * The soak's listeners: SSE followers of single runs (each takes the newest run, reads its
 * events until `end`, then takes the next), followers of the organization's feed (one long
 * stream each for the whole soak), and the loopback webhook receiver. A stream that closes
 * early, a run whose `end` does not come within 30 s, and a webhook that never arrives are
 * errors.
 */
import http from "node:http";
import { createParser } from "eventsource-parser";
import { sleep } from "../proc.js";
import type { Recorder } from "./recorder.js";

const END_WITHIN_MS = 30_000;

interface Stream {
  /** Resolves when the stream ends: "end" after an `end` event, "closed" when the server closed it, "aborted" when we did. */
  done: Promise<"end" | "closed" | "aborted">;
  abort(): void;
}

/** Opens an SSE stream; `onEvent` hears each event. Rejects if the answer is not 200. */
async function openStream(url: string, apiKey: string, onEvent: (event: string | undefined) => void): Promise<Stream> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { authorization: `Bearer ${apiKey}`, accept: "text/event-stream" }, signal: controller.signal });
  if (response.status !== 200 || response.body === null) {
    const text = await response.text();
    throw new Error(`HTTP ${response.status} ${text.slice(0, 200)}`);
  }
  let ended = false;
  const parser = createParser({
    onEvent: (message) => {
      if (message.event === "end") ended = true;
      onEvent(message.event);
    },
  });
  const done = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body!) {
        parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
        if (ended) {
          controller.abort();
          return "end" as const;
        }
      }
      return "closed" as const;
    } catch (error) {
      if (controller.signal.aborted) return ended ? ("end" as const) : ("aborted" as const);
      throw error;
    }
  })();
  return { done, abort: () => controller.abort() };
}

export class Followers {
  private running = true;
  private readonly streams = new Set<Stream>();
  private readonly loops: Promise<void>[] = [];
  runsFollowed = 0;
  feedEvents = 0;

  constructor(private readonly apiKey: string, private readonly recorder: Recorder) {}

  /** `count` followers of single runs, each taking its next run from `next`. */
  followRuns(count: number, next: () => { base: string; id: string } | undefined): void {
    for (let i = 0; i < count; i++) this.loops.push(this.runLoop(next));
  }

  /** One follower of the organization's feed per base URL in `bases`. */
  followFeeds(bases: readonly string[]): void {
    for (const base of bases) this.loops.push(this.feedLoop(base));
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const stream of this.streams) stream.abort();
    await Promise.all(this.loops);
  }

  private async runLoop(next: () => { base: string; id: string } | undefined): Promise<void> {
    while (this.running) {
      const run = next();
      if (run === undefined) {
        await sleep(50);
        continue;
      }
      const url = `${run.base}/v1/runs/${run.id}/events`;
      try {
        const stream = await openStream(url, this.apiKey, () => {});
        this.streams.add(stream);
        const timer = setTimeout(() => {
          this.recorder.error("follow_run", `${url}: no end event within ${END_WITHIN_MS / 1000} s`);
          stream.abort();
        }, END_WITHIN_MS);
        const how = await stream.done.finally(() => {
          clearTimeout(timer);
          this.streams.delete(stream);
        });
        if (how === "end") this.runsFollowed++;
        else if (how === "closed") this.recorder.error("follow_run", `${url}: the stream closed before the end event`);
      } catch (error) {
        if (this.running) this.recorder.error("follow_run", `${url}: ${String(error)}`);
      }
    }
  }

  private async feedLoop(base: string): Promise<void> {
    const url = `${base}/v1/runs/events`;
    while (this.running) {
      try {
        const stream = await openStream(url, this.apiKey, () => this.feedEvents++);
        this.streams.add(stream);
        const how = await stream.done.finally(() => this.streams.delete(stream));
        if (this.running && how !== "aborted") this.recorder.error("follow_feed", `${url}: the feed closed (${how})`);
      } catch (error) {
        if (this.running) this.recorder.error("follow_feed", `${url}: ${String(error)}`);
      }
      if (this.running) await sleep(1_000);
    }
  }
}

/**
 * The loopback receiver: answers 200 at once and matches each webhook with its run's end
 * (either may come first); the time from the terminal request's answer to the webhook's
 * arrival is the `webhook` latency.
 */
export class WebhookReceiver {
  private readonly server = http.createServer((request, response) => this.receive(request, response));
  private readonly endedAt = new Map<string, number>();
  private readonly arrivedAt = new Map<string, number>();
  url = "";
  delivered = 0;
  duplicates = 0;

  constructor(private readonly recorder: Recorder) {}

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}/hook`;
  }

  /** The run's terminal request was answered at `at`. */
  ended(runId: string, at: number): void {
    const arrived = this.arrivedAt.get(runId);
    if (arrived === undefined) this.endedAt.set(runId, at);
    else {
      this.arrivedAt.delete(runId);
      this.recorder.latency("webhook", Math.max(0, arrived - at));
    }
  }

  /** Waits up to `timeoutMs` for every ended run's webhook; each one still missing is an error. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.endedAt.size > 0 && Date.now() < deadline) await sleep(100);
    for (const runId of this.endedAt.keys()) this.recorder.error("webhook", `no webhook for ${runId} within ${timeoutMs / 1000} s of the end of the load`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private receive(request: http.IncomingMessage, response: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const now = performance.now();
      response.writeHead(200, { "content-type": "text/plain" }).end("ok");
      let runId: string | undefined;
      try {
        runId = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { run_id?: string }).run_id;
      } catch {
        // not a webhook
      }
      if (runId === undefined) return this.recorder.error("webhook", "a POST without a run_id");
      this.delivered++;
      const ended = this.endedAt.get(runId);
      if (ended !== undefined) {
        this.endedAt.delete(runId);
        this.recorder.latency("webhook", Math.max(0, now - ended));
      } else if (this.arrivedAt.has(runId)) this.duplicates++;
      else this.arrivedAt.set(runId, now);
    });
  }
}
