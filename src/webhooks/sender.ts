/**
 * One HTTP attempt: POST the signed body with a timeout, connecting only to addresses the
 * guard allows (checked on the resolved address, at connect time). Never throws: every
 * outcome is a status code or an error message for the attempt log.
 *
 * A WebhookSender keeps connections alive, one pool per destination origin: at most
 * `maxSocketsPerOrigin` connections each, an idle one closed after `idleTimeoutMs` (below
 * the 5 s that Node's and many other servers keep an idle connection), at most `maxOrigins`
 * pools. Reuse does not weaken the guard: a pool belongs to one origin and one sender (so
 * one guard), and each of its connections was checked when it connected — by the lookup
 * below for a name, before the request for an address literal, which is checked again on
 * every request. A request that fails on a reused connection before any answer (the
 * receiver closed it while idle) is sent once more on a new one.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import type { AddressGuard } from "./address-guard.js";

export interface SendResult {
  statusCode?: number;
  retryAfter?: string;
  error?: string;
  durationMs: number;
}

export interface SenderOptions {
  /** Connections open at once to one origin (scheme, host and port). */
  maxSocketsPerOrigin: number;
  /** How long an idle connection is kept. */
  idleTimeoutMs?: number;
  /** Origins with a pool at once; the least recently used idle pools go first. */
  maxOrigins?: number;
}

export const IDLE_TIMEOUT_MS = 4_000;
export const MAX_ORIGINS = 256;

const MAX_RESPONSE_BYTES = 64 * 1024;
/** Errors of a connection the receiver closed while it sat idle in the pool. */
const STALE_CONNECTION = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);

export class WebhookSender {
  /** Pools by origin, least recently used first. */
  private readonly pools = new Map<string, http.Agent>();
  private readonly idleTimeoutMs: number;
  private readonly maxOrigins: number;

  constructor(private readonly guard: AddressGuard, private readonly options: SenderOptions) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
    this.maxOrigins = options.maxOrigins ?? MAX_ORIGINS;
  }

  send(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<SendResult> {
    return attempt(url, headers, body, this.guard, timeoutMs, (parsed) => this.pool(parsed));
  }

  /** Closes every pooled connection. */
  close(): void {
    for (const agent of this.pools.values()) agent.destroy();
    this.pools.clear();
  }

  private pool(url: URL): http.Agent {
    const origin = url.origin;
    let agent = this.pools.get(origin);
    if (agent !== undefined) {
      this.pools.delete(origin);
      this.pools.set(origin, agent);
      return agent;
    }
    const options = { keepAlive: true, maxSockets: this.options.maxSocketsPerOrigin, maxFreeSockets: this.options.maxSocketsPerOrigin, timeout: this.idleTimeoutMs };
    agent = url.protocol === "https:" ? new https.Agent(options) : new http.Agent(options);
    this.pools.set(origin, agent);
    this.evict();
    return agent;
  }

  /** Drops the least recently used pools past `maxOrigins` that have no request in flight. */
  private evict(): void {
    for (const [origin, agent] of this.pools) {
      if (this.pools.size <= this.maxOrigins) return;
      if (Object.keys(agent.sockets).length > 0 || Object.keys(agent.requests).length > 0) continue;
      agent.destroy();
      this.pools.delete(origin);
    }
  }
}

/** One attempt on a new connection that is closed afterwards. */
export function send(url: string, headers: Record<string, string>, body: string, guard: AddressGuard, timeoutMs: number): Promise<SendResult> {
  return attempt(url, headers, body, guard, timeoutMs, () => false);
}

async function attempt(
  url: string,
  headers: Record<string, string>,
  body: string,
  guard: AddressGuard,
  timeoutMs: number,
  agentFor: (url: URL) => http.Agent | false,
): Promise<SendResult> {
  const started = performance.now();
  const done = (result: Omit<SendResult, "durationMs">): SendResult => ({ ...result, durationMs: Math.round(performance.now() - started) });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return done({ error: `invalid URL ${url}` });
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  const trustedHost = guard.hostAllowed(host);
  if (!trustedHost && isIP(host) !== 0) {
    const refusal = guard.refusal(host);
    if (refusal !== undefined) return done({ error: `refused: ${refusal}` });
  }
  const lookup = guardedLookup(guard, trustedHost);
  const client = parsed.protocol === "https:" ? https : http;
  const options: http.RequestOptions = {
    method: "POST",
    headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body).toString(), "user-agent": "runledger-webhooks/1" },
    lookup,
    timeout: timeoutMs,
    agent: agentFor(parsed),
  };
  // A connection the receiver closed while idle fails at once; each retry takes another
  // pooled connection or a new one, so it ends once a new connection has been tried.
  for (let tries = 0; ; tries++) {
    const outcome = await post(client, parsed, options, body);
    if (outcome.staleConnection && tries < 3) continue;
    return done(outcome.result);
  }
}

function guardedLookup(guard: AddressGuard, trustedHost: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, "", 0);
      const allowed = trustedHost ? addresses : addresses.filter((a) => guard.refusal(a.address) === undefined);
      if (allowed.length === 0) {
        const reason = guard.refusal(addresses[0]?.address ?? "") ?? "no address";
        return callback(Object.assign(new Error(`refused: ${hostname} resolves to ${reason}`), { code: "EADDRNOTALLOWED" }), "", 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

function post(
  client: typeof http | typeof https,
  url: URL,
  options: http.RequestOptions,
  body: string,
): Promise<{ result: Omit<SendResult, "durationMs">; staleConnection: boolean }> {
  return new Promise((resolve) => {
    let answered = false;
    const request = client.request(url, options, (response) => {
      answered = true;
      let received = 0;
      response.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_RESPONSE_BYTES) response.destroy();
      });
      const finish = () => resolve({ result: { statusCode: response.statusCode, retryAfter: header(response.headers["retry-after"]) }, staleConnection: false });
      response.on("end", finish);
      response.on("close", finish);
      response.on("error", finish);
    });
    request.on("timeout", () => request.destroy(new Error(`no response within ${options.timeout} ms`)));
    request.on("error", (error: NodeJS.ErrnoException) => {
      const stale = !answered && request.reusedSocket && STALE_CONNECTION.has(error.code ?? "");
      resolve({ result: { error: error.message }, staleConnection: stale });
    });
    request.end(body);
  });
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
