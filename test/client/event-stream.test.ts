/**
 * The client reads run event streams as the SSE standard defines them, whoever sends them:
 * an event's data may span several `data:` lines (joined with newlines), lines may end in
 * CRLF, and comments are ignored.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunledgerClient } from "../../src/client/http-client.js";

const RUN = "run-00000000-0000-4000-8000-000000000000";

describe("the client's event stream reader", () => {
  let server: Server;
  let baseUrl: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url !== `/v1/runs/${RUN}/events`) {
        response.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ detail: "no such route", code: "NOT_FOUND" }));
        return;
      }
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(": ready\n\n");
      // One event whose JSON is split over three data lines, sent in two network chunks.
      response.write('id: 1\nevent: status\ndata: {"status":\ndata:  "running",\n');
      response.write('data:  "note": "two\\nlines"}\n\n');
      response.write('id: 2\r\nevent: step\r\ndata: {"id": "step-1"}\r\n\r\n');
      response.write('id: 3\nevent: end\ndata: {"status":\ndata: "completed"}\n\n');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("joins multi-line data, accepts CRLF, and returns the final status", async () => {
    const client = new RunledgerClient({ baseUrl, apiKey: "rlk_test" });
    const events: [string, Record<string, unknown>, number | undefined][] = [];
    const final = await client.followEvents(RUN, (kind, data, seqId) => events.push([kind, data, seqId]), AbortSignal.timeout(5_000));
    expect(events).toEqual([
      ["status", { status: "running", note: "two\nlines" }, 1],
      ["step", { id: "step-1" }, 2],
    ]);
    expect(final).toBe("completed");
  });
});
