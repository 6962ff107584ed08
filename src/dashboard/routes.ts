/**
 * Serves the dashboard from the server process: index.html for each page's URL (the app
 * routes in the browser) and the built assets under /assets. Assets have content hashes in
 * their names, so they are cached for a year; the HTML is revalidated on every load and
 * carries a Content-Security-Policy that allows scripts, styles and connections from this
 * origin only. Both are sent compressed (brotli or gzip, built ahead of time) when the
 * browser accepts it. These routes need no API key: the page signs in with one and then
 * calls the public API like any other client.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { DASHBOARD_ASSETS_DIR } from "./assets.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route needs no API key (the server's auth hook lets it through). */
    public?: boolean;
  }
}

/** The page URLs the app answers in the browser; every other path stays the API's. */
export const DASHBOARD_PAGES = ["/", "/runs", "/runs/:run_id", "/stats"] as const;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".html": "text/html; charset=utf-8",
};

interface Asset {
  type: string;
  identity: Buffer;
  gzip?: Buffer;
  brotli?: Buffer;
}

type Encoding = "br" | "gzip" | "identity";

/** The best encoding the request accepts (an encoding with q=0 is refused). */
export function preferredEncoding(header: string | undefined): Encoding {
  if (header === undefined) return "identity";
  const accepted = new Map<string, number>();
  for (const part of header.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)).find((m) => m !== null);
    accepted.set(name!, q ? Number(q[1]) : 1);
  }
  const ok = (name: string) => (accepted.get(name) ?? accepted.get("*") ?? 0) > 0;
  if (ok("br")) return "br";
  if (ok("gzip")) return "gzip";
  return "identity";
}

async function loadAsset(path: string, type: string): Promise<Asset> {
  const optional = (p: string) => readFile(p).catch(() => undefined);
  const [identity, gzip, brotli] = await Promise.all([readFile(path), optional(`${path}.gz`), optional(`${path}.br`)]);
  return { type, identity, gzip, brotli };
}

async function loadBuild(dir: string): Promise<{ index: Asset; assets: Map<string, Asset> } | undefined> {
  let names: string[];
  try {
    names = await readdir(join(dir, "assets"));
  } catch {
    return undefined;
  }
  const assets = new Map<string, Asset>();
  for (const name of names) {
    const extension = name.slice(name.lastIndexOf("."));
    const type = TYPES[extension];
    if (type !== undefined) assets.set(name, await loadAsset(join(dir, "assets", name), type));
  }
  return { index: await loadAsset(join(dir, "index.html"), TYPES[".html"]!), assets };
}

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  const encoding = preferredEncoding(request.headers["accept-encoding"]);
  const body = (encoding === "br" && asset.brotli) || (encoding === "gzip" && asset.gzip) || asset.identity;
  reply.header("content-type", asset.type).header("vary", "accept-encoding").header("x-content-type-options", "nosniff");
  if (body !== asset.identity) reply.header("content-encoding", encoding);
  return reply.send(body);
}

export interface DashboardOptions {
  /** The built dashboard (default: dist/dashboard/public). */
  assetsDir?: string;
}

export function dashboardRoutes(options: DashboardOptions = {}) {
  return async (app: FastifyInstance) => {
    const built = await loadBuild(options.assetsDir ?? DASHBOARD_ASSETS_DIR);
    const route = { schema: { hide: true }, config: { public: true } };

    for (const page of DASHBOARD_PAGES) {
      app.get(page, route, async (request, reply) => {
        if (built === undefined) {
          return reply.code(503).send({ detail: "the dashboard is not built: run `npm run build` and restart the server", code: "DASHBOARD_NOT_BUILT" });
        }
        reply
          .header("cache-control", "no-cache")
          .header("content-security-policy", CONTENT_SECURITY_POLICY)
          .header("referrer-policy", "no-referrer")
          .header("x-frame-options", "DENY")
          .header("cross-origin-opener-policy", "same-origin");
        return send(request, reply, built.index);
      });
    }

    app.get<{ Params: { name: string } }>("/assets/:name", route, async (request, reply) => {
      const asset = built?.assets.get(request.params.name);
      if (asset === undefined) return reply.code(404).send({ detail: `no dashboard asset ${request.params.name}`, code: "NOT_FOUND" });
      reply.header("cache-control", "public, max-age=31536000, immutable");
      return send(request, reply, asset);
    });
  };
}
