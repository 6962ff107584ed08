/** A real local webhook receiver: records every request and answers as each test scripts it. */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The sender's port: requests with the same one came over the same connection. */
  remotePort: number;
}

interface Answer {
  status: number;
  headers?: Record<string, string>;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Decides the status (and headers) of each request, at once or later, or to hang, or to drop its connection unanswered; default 200. */
  respond: (request: Received, index: number) => Answer | "hang" | "reset" | Promise<Answer>;
  /** Connections accepted so far, and those still open. */
  connections: { accepted: number; open: number };
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const hanging = new Set<() => void>();
  const receiver: Receiver = {
    url: "",
    received: [],
    respond: () => ({ status: 200 }),
    connections: { accepted: 0, open: 0 },
    close: async () => {},
  };
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const entry = { headers: request.headers, body, remotePort: request.socket.remotePort ?? 0 };
      receiver.received.push(entry);
      const answer = receiver.respond(entry, receiver.received.length - 1);
      if (answer === "hang") {
        hanging.add(() => response.destroy());
        return;
      }
      if (answer === "reset") {
        request.socket.destroy();
        return;
      }
      if (answer instanceof Promise) {
        hanging.add(() => response.destroy());
        void answer.then((later) => response.writeHead(later.status, later.headers).end("ok"));
        return;
      }
      response.writeHead(answer.status, answer.headers).end("ok");
    });
  });
  server.on("connection", (socket) => {
    receiver.connections.accepted++;
    receiver.connections.open++;
    socket.on("close", () => receiver.connections.open--);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  receiver.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/hook`;
  receiver.close = async () => {
    for (const drop of hanging) drop();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}
