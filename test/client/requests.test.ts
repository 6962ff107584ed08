/**
 * The client's requests: keep-alive connections carry a producer's sequential calls,
 * and a server that does not answer fails the call after `timeoutMs`.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunledgerClient } from "../../src/client/http-client.js";

const RUN = "run-00000000-0000-4000-8000-000000000000";

describe("the client's requests", () => {
  let server: Server;
  let baseUrl: string;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url?.includes("slow")) return; // never answers
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id: RUN, status: "running" }));
    });
    server.on("connection", (socket: Socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("reuses keep-alive connections for a producer's sequential calls", async () => {
    const client = new RunledgerClient({ baseUrl, apiKey: "rlk_x" });
    const before = sockets.size;
    for (let i = 0; i < 20; i++) await client.heartbeat(RUN);
    // fetch (undici) sends a call made as the previous answer is read on a second
    // connection, and then takes turns between the two: never a connection per call.
    expect(sockets.size - before).toBeLessThanOrEqual(2);
  });

  it("fails a call the server does not answer within timeoutMs with a TimeoutError", async () => {
    const client = new RunledgerClient({ baseUrl, apiKey: "rlk_x", timeoutMs: 200 });
    const started = Date.now();
    await expect(client.getRun(`${RUN}/slow`)).rejects.toMatchObject({ name: "TimeoutError" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });
});
