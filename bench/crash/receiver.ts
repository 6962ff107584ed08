/**
 * The loopback webhook receiver: records every delivery (webhook-id, run id, status) and
 * answers 200 — except the first attempt of one delivery in six, which gets a 500 to make
 * the dispatcher retry.
 */
import http from "node:http";

export interface Delivery {
  webhookId: string;
  runId: string;
  status: string;
  answered: number;
}

export interface Receiver {
  url: string;
  deliveries: Delivery[];
  /** webhook-id → attempts received. */
  attempts: Map<string, number>;
  close(): Promise<void>;
}

function forcedFailure(webhookId: string, attempt: number): boolean {
  if (attempt > 1) return false;
  let hash = 0;
  for (const char of webhookId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % 6 === 0;
}

export async function startReceiver(): Promise<Receiver> {
  const deliveries: Delivery[] = [];
  const attempts = new Map<string, number>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const webhookId = String(request.headers["webhook-id"] ?? "");
      const attempt = (attempts.get(webhookId) ?? 0) + 1;
      attempts.set(webhookId, attempt);
      const answered = forcedFailure(webhookId, attempt) ? 500 : 200;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { run_id: string; status: string };
        deliveries.push({ webhookId, runId: body.run_id, status: body.status, answered });
      } catch {
        deliveries.push({ webhookId, runId: "", status: "unparseable", answered });
      }
      response.writeHead(answered, { "content-type": "text/plain" }).end(answered === 200 ? "ok" : "try again");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries,
    attempts,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
