/**
 * The HTTP floor for bench/http-floors.ts: runledger's read and write routes with nothing
 * but the work itself (bench/floors/floor-db.ts) behind a minimal HTTP front end, on the
 * same SQLite file as the runledger server it is compared with.
 *
 *   GET   /v1/runs/{id}   GET /v1/runs/ (first page)   POST /v1/runs   PATCH /v1/runs/{id} → completed
 *
 * The bearer key is checked against an in-memory map (the one key FLOOR_KEY, whose row it
 * reads from api_keys at start). FLOOR_HTTP picks the front end: `node` (node:http, the
 * default) or `fastify` (a route per path, no hooks, no schemas). Listens on
 * 127.0.0.1:PORT until SIGTERM/SIGINT.
 *
 *   FLOOR_DB=<file> FLOOR_KEY=<rlk_…> PORT=<port> [FLOOR_HTTP=node|fastify] npx tsx bench/floors/floor-server.ts
 */
import Fastify from "fastify";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { FloorDb, type FloorActor } from "./floor-db.js";

const file = process.env.FLOOR_DB;
const key = process.env.FLOOR_KEY;
const port = Number(process.env.PORT);
const front = process.env.FLOOR_HTTP ?? "node";
if (file === undefined || key === undefined || !Number.isInteger(port) || port <= 0 || !["node", "fastify"].includes(front)) {
  console.error("floor-server: set FLOOR_DB, FLOOR_KEY and PORT (FLOOR_HTTP=node|fastify)");
  process.exit(2);
}

const db = new FloorDb(file);
db.trustKey(key);

const NOT_FOUND = JSON.stringify({ detail: "not found", code: "NOT_FOUND" });
const UNAUTHENTICATED = JSON.stringify({ detail: "the API key is not valid", code: "UNAUTHENTICATED" });

interface Answer {
  status: number;
  body: string;
}

function actorOf(authorization: string | undefined): FloorActor | undefined {
  return authorization?.startsWith("Bearer ") ? db.keys.get(authorization.slice(7)) : undefined;
}

/** Every route: its answer, or a promise of it for the writes (which answer after their group's COMMIT). */
function route(method: string, path: string, authorization: string | undefined, body: string): Answer | Promise<Answer> {
  const actor = actorOf(authorization);
  if (actor === undefined) return { status: 401, body: UNAUTHENTICATED };
  const found = (status: number) => (text: string | undefined): Answer => (text === undefined ? { status: 404, body: NOT_FOUND } : { status, body: text });
  if (path === "/v1/runs/" || path === "/v1/runs") {
    if (method === "GET") return { status: 200, body: db.listFirstPage(actor) };
    if (method === "POST") return db.createRun(actor, (JSON.parse(body) as { agent_id: string }).agent_id).then(found(201));
  } else if (path.startsWith("/v1/runs/")) {
    const id = path.slice("/v1/runs/".length);
    if (method === "GET") return found(200)(db.getRun(actor, id));
    if (method === "PATCH") return db.completeRun(actor, id).then(found(200));
  }
  return { status: 404, body: NOT_FOUND };
}

const HEADERS = { "content-type": "application/json; charset=utf-8" };

function serveNode(): Promise<void> {
  const send = (res: ServerResponse, answer: Answer) => {
    res.writeHead(answer.status, HEADERS);
    res.end(answer.body);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const answerWith = (body: string) => {
      const answer = route(req.method!, req.url!, req.headers.authorization, body);
      if (answer instanceof Promise) void answer.then((a) => send(res, a));
      else send(res, answer);
    };
    if (req.method === "GET") {
      answerWith("");
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => answerWith(Buffer.concat(chunks).toString("utf8")));
  });
  process.once("SIGTERM", () => server.close(() => process.exit(0)));
  process.once("SIGINT", () => server.close(() => process.exit(0)));
  return new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
}

async function serveFastify(): Promise<void> {
  const app = Fastify({ logger: false });
  // Bodies as text, as node:http hands them over.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, text, done) => done(null, text));
  const handler = async (request: { method: string; url: string; headers: { authorization?: string }; body?: unknown }, reply: { code(n: number): unknown; header(k: string, v: string): unknown }) => {
    const answer = await route(request.method, request.url, request.headers.authorization, (request.body as string | undefined) ?? "");
    reply.code(answer.status);
    reply.header("content-type", HEADERS["content-type"]);
    return answer.body;
  };
  app.get("/v1/runs/", handler);
  app.post("/v1/runs", handler);
  app.get("/v1/runs/:run_id", handler);
  app.patch("/v1/runs/:run_id", handler);
  const stop = () => void app.close().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  await app.listen({ host: "127.0.0.1", port });
}

await (front === "node" ? serveNode() : serveFastify());
console.error(`floor (${front}) listening on 127.0.0.1:${port}`);
