/**
 * An open-loop load generator for bench/http.ts: requests leave on a fixed schedule, `rate`
 * per second, whatever the server's answers, over a pool of keep-alive connections. Each
 * latency is measured from the request's scheduled time, so a server that stalls shows in
 * the figures instead of slowing the sender (no coordinated omission). autocannon's own
 * rate limit sends each second's requests in a burst at its start, which measures bursts.
 */
import { Agent, request as httpRequest } from "node:http";

export interface SteadyRequest {
  method: string;
  /** The path of the next request. */
  path: () => string;
  headers: Record<string, string>;
  body?: string;
}

export interface SteadyOptions {
  base: string;
  rate: number;
  count: number;
  connections: number;
  /** Each answer: status, ms from its scheduled time, body. */
  onResponse: (status: number, ms: number, body: string) => void;
}

/** Sends `count` requests at `rate` per second; resolves with the number that failed (socket errors, 10 s timeouts). */
export async function steadyLoad(request: SteadyRequest, options: SteadyOptions): Promise<{ errors: number }> {
  const url = new URL(options.base);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const intervalMs = 1_000 / options.rate;
  const start = performance.now();
  let sent = 0;
  let settled = 0;
  let errors = 0;

  const send = (due: number): Promise<void> =>
    new Promise((resolve) => {
      const done = () => {
        settled++;
        resolve();
      };
      const req = httpRequest(
        { agent, host: url.hostname, port: url.port, method: request.method, path: request.path(), headers: request.headers, timeout: 10_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            options.onResponse(res.statusCode ?? 0, performance.now() - due, Buffer.concat(chunks).toString("utf8"));
            done();
          });
          res.on("error", () => {
            errors++;
            done();
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error("timed out")));
      req.on("error", () => {
        errors++;
        done();
      });
      req.end(request.body);
    });

  const inFlight: Promise<void>[] = [];
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < options.count && start + sent * intervalMs <= now) inFlight.push(send(start + sent++ * intervalMs));
      if (sent < options.count) setTimeout(tick, Math.max(0, start + sent * intervalMs - performance.now()));
      else resolve();
    };
    tick();
  });
  await Promise.all(inFlight);
  agent.destroy();
  if (settled !== options.count) throw new Error(`steady load: ${settled} of ${options.count} requests settled`);
  return { errors };
}
