import { connect, type Socket } from "node:net";
import { expect, it } from "vitest";
import { buildServer } from "../../src/http/server.js";
import { openLedger } from "../../src/ledger.js";

/** Resolves with how `promise` settled, or "still waiting" after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<"done" | "still waiting"> {
  return Promise.race([promise.then(() => "done" as const), new Promise<"still waiting">((resolve) => setTimeout(() => resolve("still waiting"), ms))]);
}

it("shuts down promptly beside a keep-alive connection and a connection that never sent a request", async () => {
  const ledger = await openLedger({ url: "sqlite::memory:" });
  const app = await buildServer({ ledger });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as { port: number };
  const open = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => resolve(socket));
      socket.once("error", reject);
    });
  const used = await open();
  used.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  await new Promise((resolve) => used.once("data", resolve));
  const spare = await open();
  const closed = (socket: Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once("close", () => resolve())));
  try {
    // Node would keep the spare connection until its 60 s headers timeout.
    expect(await within(app.close(), 5_000)).toBe("done");
    expect(await within(Promise.all([closed(used), closed(spare)]), 5_000)).toBe("done");
  } finally {
    used.destroy();
    spare.destroy();
    await ledger.close();
  }
});
