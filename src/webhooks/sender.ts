/**
 * One HTTP attempt: POST the signed body with a timeout, connecting only to addresses the
 * guard allows (checked on the resolved address, at connect time). Never throws: every
 * outcome is a status code or an error message for the attempt log.
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

const MAX_RESPONSE_BYTES = 64 * 1024;

export function send(url: string, headers: Record<string, string>, body: string, guard: AddressGuard, timeoutMs: number): Promise<SendResult> {
  const started = performance.now();
  const done = (result: Omit<SendResult, "durationMs">): SendResult => ({ ...result, durationMs: Math.round(performance.now() - started) });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.resolve(done({ error: `invalid URL ${url}` }));
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  const trustedHost = guard.hostAllowed(host);
  if (!trustedHost && isIP(host) !== 0) {
    const refusal = guard.refusal(host);
    if (refusal !== undefined) return Promise.resolve(done({ error: `refused: ${refusal}` }));
  }
  const lookup: LookupFunction = (hostname, options, callback) => {
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
  const client = parsed.protocol === "https:" ? https : http;
  return new Promise((resolve) => {
    const request = client.request(
      parsed,
      {
        method: "POST",
        headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body).toString(), "user-agent": "runledger-webhooks/1" },
        lookup,
        timeout: timeoutMs,
        agent: false,
      },
      (response) => {
        let received = 0;
        response.on("data", (chunk: Buffer) => {
          received += chunk.length;
          if (received > MAX_RESPONSE_BYTES) response.destroy();
        });
        const finish = () =>
          resolve(done({ statusCode: response.statusCode, retryAfter: header(response.headers["retry-after"]) }));
        response.on("end", finish);
        response.on("close", finish);
        response.on("error", finish);
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no response within ${timeoutMs} ms`)));
    request.on("error", (error) => resolve(done({ error: error.message })));
    request.end(body);
  });
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
