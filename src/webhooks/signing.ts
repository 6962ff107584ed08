/**
 * Standard Webhooks signatures: `webhook-signature: v1,<base64 HMAC-SHA256 of
 * "<webhook-id>.<webhook-timestamp>.<body>">` keyed with the decoded `whsec_` secret. During
 * a rotation the header carries one signature per live secret, space-separated.
 */
import { createHmac, randomBytes } from "node:crypto";

export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

export function sign(secret: string, id: string, timestampS: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${timestampS}.${body}`).digest("base64")}`;
}

export function signatureHeader(secrets: readonly string[], id: string, timestampS: number, body: string): string {
  return secrets.map((secret) => sign(secret, id, timestampS, body)).join(" ");
}
