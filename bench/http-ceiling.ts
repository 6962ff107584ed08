/**
 * The ceiling for bench/http.ts: a bare Fastify 5 app — no hooks, no auth, no database,
 * no schemas — answering GET / with a fixed, pre-serialized JSON body read from
 * CEILING_BODY_FILE. Listens on 127.0.0.1:PORT until SIGTERM/SIGINT.
 */
import Fastify from "fastify";
import { readFileSync } from "node:fs";

const bodyFile = process.env.CEILING_BODY_FILE;
const port = Number(process.env.PORT);
if (bodyFile === undefined || !Number.isInteger(port) || port <= 0) {
  console.error("http-ceiling: set CEILING_BODY_FILE and PORT");
  process.exit(2);
}
const body = readFileSync(bodyFile, "utf8");

const app = Fastify({ logger: false });
app.get("/", (_request, reply) => {
  void reply.header("content-type", "application/json; charset=utf-8").send(body);
});
await app.listen({ host: "127.0.0.1", port });

const stop = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
