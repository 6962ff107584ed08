/**
 * HTTP requests over a real socket with the path sent exactly as given — no client-side
 * normalization of `..` or `%2e%2e` segments, as fetch and app.inject do — and a deadline:
 * a request not answered in time is aborted and reported as a hang. An event stream is done
 * once its status and headers arrive.
 */
import http from "node:http";

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export class HangError extends Error {}

export class RawClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  constructor(
    private readonly baseUrl: string,
    private readonly deadlineMs = 5_000,
  ) {}

  request(options: { method: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<RawResponse> {
    const { hostname, port } = new URL(this.baseUrl);
    return new Promise((resolve, reject) => {
      const request = http.request({ agent: this.agent, hostname, port, method: options.method, path: options.path, headers: options.headers });
      const timer = setTimeout(() => {
        request.destroy(new HangError(`${options.method} ${options.path.slice(0, 200)} was not answered within ${this.deadlineMs} ms`));
      }, this.deadlineMs);
      request.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      request.on("response", (response) => {
        const status = response.statusCode ?? 0;
        if (String(response.headers["content-type"]).startsWith("text/event-stream")) {
          clearTimeout(timer);
          response.destroy();
          resolve({ status, headers: response.headers, body: "" });
          return;
        }
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", (error) => {
          clearTimeout(timer);
          reject(error);
        });
        response.on("end", () => {
          clearTimeout(timer);
          resolve({ status, headers: response.headers, body: Buffer.concat(chunks).toString("utf8") });
        });
      });
      request.end(options.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
