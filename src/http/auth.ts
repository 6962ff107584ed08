/**
 * Bearer API keys. A verified key is remembered for a few seconds so that a busy client
 * does not cost a database read per request; revoking a key on this process forgets it at
 * once, on other processes within the cache lifetime.
 */
import { createHash } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { UnauthenticatedError } from "../core/errors.js";
import type { Actor } from "../core/model.js";
import type { ApiKeyService } from "../services/api-keys.js";

export class Authenticator {
  private readonly cache = new Map<string, { actor: Actor; expires: number }>();

  constructor(private readonly apiKeys: ApiKeyService, private readonly ttlMs = 5_000) {}

  async actorFor(request: FastifyRequest): Promise<Actor> {
    const cached = this.cachedActor(request);
    if (cached !== undefined) return cached;
    const secret = presentedSecret(request);
    const now = Date.now();
    const actor = await this.apiKeys.authenticate(secret);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(cacheKeyOf(secret), { actor, expires: now + this.ttlMs });
    return actor;
  }

  /** The actor of a key verified within the cache lifetime, without waiting; undefined when the key must be checked. Throws for a missing or malformed header. */
  cachedActor(request: FastifyRequest): Actor | undefined {
    const cached = this.cache.get(cacheKeyOf(presentedSecret(request)));
    return cached !== undefined && cached.expires > Date.now() ? cached.actor : undefined;
  }

  forget(apiKeyId: string): void {
    for (const [key, entry] of this.cache) if (entry.actor.api_key_id === apiKeyId) this.cache.delete(key);
  }
}

function presentedSecret(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (header === undefined || header === "") {
    throw new UnauthenticatedError("missing API key: send the header 'Authorization: Bearer <api key>'");
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null) throw new UnauthenticatedError("the Authorization header must be 'Bearer <api key>'");
  return match[1]!;
}

/** Secrets are kept in memory only as their hash. */
function cacheKeyOf(secret: string): string {
  return createHash("sha256").update(secret).digest("base64");
}
