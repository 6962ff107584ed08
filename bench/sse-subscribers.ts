/**
 * Many concurrent SSE subscribers on raw node:http sockets, for bench/streams.ts. Each
 * subscriber parses `id:` / `event:` / `data:` lines; for every `message` event it records
 * the time from the send time the writer put in the message's content (epoch ms, see
 * `clock()`) to the arrival of the socket chunk that carried it.
 *
 * Used in-process, or as a forked worker (`--worker`) driven over IPC when the bench
 * process itself would be the bottleneck; a worker's clock is aligned with its parent's by
 * a ping-pong over IPC, so its latencies are on the parent's clock.
 */
import http from "node:http";

/** Epoch milliseconds with sub-millisecond resolution. */
export function clock(): number {
  return performance.timeOrigin + performance.now();
}

interface Subscriber {
  request: http.ClientRequest;
  response: http.IncomingMessage | undefined;
  buffer: string;
  /** Events with an id seen (replayed or live). */
  idEvents: number;
  lastId: number;
  outOfOrder: number;
  closed: boolean;
}

export interface PoolReport {
  subscribers: number;
  connected: number;
  failed: number;
  closed: number;
  /** Latencies (ms) of message events sent at or after the phase start. */
  latencies: number[];
  /** The send time (reference clock) of each latency's message, same order. */
  sent: number[];
  /** Message events per subscriber, for the phase. */
  perSubscriber: number[];
  outOfOrder: number;
  errors: string[];
  cpuSeconds: number;
}

export class SubscriberPool {
  private readonly subs: Subscriber[] = [];
  private readonly agent: http.Agent;
  private latencies: number[] = [];
  private sent: number[] = [];
  private perSubscriber: number[] = [];
  private phaseStart = Number.POSITIVE_INFINITY;
  private readonly errors: string[] = [];
  private failed = 0;
  /** Added to this process's clock to get the reference (parent's) clock. */
  offsetMs = 0;

  constructor(maxSockets: number) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** Opens `count` subscribers to `url`, `concurrency` connection attempts at a time; resolves when each got its response headers (or failed). */
  async open(url: string, headers: Record<string, string>, count: number, concurrency = 50): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < count) {
        next++;
        try {
          await this.openOne(url, headers);
        } catch (error) {
          this.failed++;
          if (this.errors.length < 10) this.errors.push(String(error));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  }

  private openOne(url: string, headers: Record<string, string>): Promise<void> {
    return new Promise((resolve, reject) => {
      const index = this.perSubscriber.length;
      const sub: Subscriber = { request: undefined as never, response: undefined, buffer: "", idEvents: 0, lastId: 0, outOfOrder: 0, closed: false };
      this.perSubscriber.push(0);
      const request = http.get(url, { agent: this.agent, headers: { accept: "text/event-stream", ...headers } }, (response) => {
        if (response.statusCode !== 200) {
          let body = "";
          response.on("data", (c: Buffer) => (body += c.toString()));
          response.on("end", () => reject(new Error(`HTTP ${response.statusCode}: ${body.slice(0, 200)}`)));
          return;
        }
        sub.response = response;
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => this.onData(sub, index, chunk, clock()));
        response.on("close", () => (sub.closed = true));
        response.on("error", () => (sub.closed = true));
        this.subs.push(sub);
        resolve();
      });
      sub.request = request;
      request.setNoDelay(true);
      request.on("error", (error) => {
        sub.closed = true;
        reject(error);
      });
      request.setTimeout(30_000, () => request.destroy(new Error("no response headers within 30 s")));
    });
  }

  private onData(sub: Subscriber, index: number, chunk: string, arrivedAt: number): void {
    sub.request.setTimeout(0);
    sub.buffer += chunk;
    let boundary = sub.buffer.indexOf("\n\n");
    while (boundary !== -1) {
      const block = sub.buffer.slice(0, boundary);
      sub.buffer = sub.buffer.slice(boundary + 2);
      boundary = sub.buffer.indexOf("\n\n");
      let id: number | undefined;
      let event: string | undefined;
      let data: string | undefined;
      for (const line of block.split("\n")) {
        if (line.startsWith("id: ")) id = Number(line.slice(4));
        else if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data = line.slice(6);
      }
      if (id !== undefined) {
        sub.idEvents++;
        if (id <= sub.lastId) sub.outOfOrder++;
        sub.lastId = id;
      }
      if (event === "message" && data !== undefined) {
        const sent = Number((JSON.parse(data) as { content?: unknown }).content);
        if (Number.isFinite(sent) && sent >= this.phaseStart) {
          this.latencies.push(arrivedAt + this.offsetMs - sent);
          this.sent.push(sent);
          this.perSubscriber[index]!++;
        }
      }
    }
  }

  /** Resolves when every connected subscriber has seen at least `minEvents` id'd events. */
  async waitReady(minEvents: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.subs.every((s) => s.idEvents >= minEvents || s.closed)) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return false;
  }

  /** Starts a measured phase: only messages sent at or after `start` (reference clock) count. */
  startPhase(start: number): void {
    this.phaseStart = start;
    this.latencies = [];
    this.sent = [];
    this.perSubscriber = this.perSubscriber.map(() => 0);
  }

  /** Message events received in the current phase. */
  received(): number {
    return this.latencies.length;
  }

  report(): PoolReport {
    const usage = process.cpuUsage();
    return {
      subscribers: this.subs.length + this.failed,
      connected: this.subs.length,
      failed: this.failed,
      closed: this.subs.filter((s) => s.closed).length,
      latencies: this.latencies,
      sent: this.sent,
      perSubscriber: this.perSubscriber,
      outOfOrder: this.subs.reduce((n, s) => n + s.outOfOrder, 0),
      errors: this.errors,
      cpuSeconds: (usage.user + usage.system) / 1e6,
    };
  }

  /** Drops every connection (the server's followers see the close and stop). */
  closeAll(): void {
    for (const sub of this.subs) {
      sub.request.destroy();
      sub.response?.destroy();
    }
    this.agent.destroy();
  }

  async waitClosed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.subs.every((s) => s.closed)) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return false;
  }
}

// ---------------------------------------------------------------------------------------
// Worker mode: a pool driven by its parent over IPC.

export type WorkerCommand =
  | { op: "open"; url: string; headers: Record<string, string>; count: number; concurrency: number }
  | { op: "ready"; minEvents: number; timeoutMs: number }
  | { op: "clock" }
  | { op: "offset"; offsetMs: number }
  | { op: "phase"; start: number }
  | { op: "received" }
  | { op: "report" }
  | { op: "waitClosed"; timeoutMs: number }
  | { op: "close" };

if (process.argv.includes("--worker") && process.send !== undefined) {
  let pool: SubscriberPool | undefined;
  const reply = (id: number, value: unknown) => process.send!({ id, value });
  process.on("message", (message: { id: number; command: WorkerCommand }) => {
    const { id, command } = message;
    const run = async (): Promise<unknown> => {
      switch (command.op) {
        case "open":
          pool ??= new SubscriberPool(command.count + 16);
          await pool.open(command.url, command.headers, command.count, command.concurrency);
          return pool.report().connected;
        case "ready":
          return pool!.waitReady(command.minEvents, command.timeoutMs);
        case "clock":
          return clock();
        case "offset":
          pool!.offsetMs = command.offsetMs;
          return true;
        case "phase":
          pool!.startPhase(command.start);
          return true;
        case "received":
          return pool!.received();
        case "report":
          return pool!.report();
        case "waitClosed":
          return pool!.waitClosed(command.timeoutMs);
        case "close":
          pool?.closeAll();
          setTimeout(() => process.exit(0), 100);
          return true;
      }
    };
    run().then(
      (value) => reply(id, value),
      (error: unknown) => reply(id, { error: String(error) }),
    );
  });
  process.on("disconnect", () => process.exit(0));
}
