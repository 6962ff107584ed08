/**
 * Request rate limits per API key: a token bucket per key, in this process only (N
 * processes behind a balancer allow N times the rate). A bucket holds `burst` tokens and
 * refills at `requests` per `periodMs`; each request takes one. A bucket that has refilled
 * is the same as no bucket, so full buckets are dropped as the map is swept: only keys
 * seen within one refill time are held.
 */
import type { FastifyInstance } from "fastify";
import type { Actor } from "../core/model.js";
import { TooManyRequestsError } from "./errors.js";

export interface RateLimit {
  requests: number;
  periodMs: number;
  /** The bucket's size: how many requests may come at once after a quiet spell. */
  burst: number;
}

export interface Take {
  allowed: boolean;
  /** Whole requests left in the bucket after this one. */
  remaining: number;
  /** Until the bucket is full again. */
  resetMs: number;
  /** Until the next request would be allowed (0 when it would be now). */
  retryAfterMs: number;
}

/** Beyond this many buckets the oldest go first, even if not yet full. */
const MAX_BUCKETS = 100_000;

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly fillMs: number;
  private nextSweep: number;

  constructor(readonly limit: RateLimit, private readonly now: () => number = () => performance.now()) {
    this.perMs = limit.requests / limit.periodMs;
    this.fillMs = limit.burst / this.perMs;
    this.nextSweep = now() + Math.max(1_000, this.fillMs);
  }

  /** Buckets held: keys seen within the last refill time (bounded by MAX_BUCKETS). */
  get size(): number {
    return this.buckets.size;
  }

  take(key: string): Take {
    const now = this.now();
    if (now >= this.nextSweep) this.sweep(now);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
      bucket = { tokens: this.limit.burst, at: now };
      this.buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(this.limit.burst, bucket.tokens + (now - bucket.at) * this.perMs);
      bucket.at = now;
    }
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    return {
      allowed,
      remaining: Math.floor(bucket.tokens),
      resetMs: (this.limit.burst - bucket.tokens) / this.perMs,
      retryAfterMs: allowed ? 0 : (1 - bucket.tokens) / this.perMs,
    };
  }

  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.at) * this.perMs >= this.limit.burst) this.buckets.delete(key);
    }
    this.nextSweep = now + Math.max(1_000, this.fillMs);
  }
}

/** "20 requests per second (bursts of 40)". */
export function describeRateLimit(limit: RateLimit): string {
  const periods: Record<number, string> = { 1_000: "second", 60_000: "minute", 3_600_000: "hour" };
  const period = periods[limit.periodMs] ?? `${limit.periodMs / 1000} s`;
  const burst = limit.burst === limit.requests ? "" : ` (bursts of ${limit.burst})`;
  return `${limit.requests} requests per ${period}${burst}`;
}

/**
 * Limits every authenticated request (one with an actor; health, metrics, the API
 * description and the dashboard's files have none) and tells the caller where it stands
 * with the RateLimit-* headers. Installed only when a limit is configured, so an unlimited
 * server does no work per request.
 */
export function installRateLimit(app: FastifyInstance, limit: RateLimit, onLimited: () => void): TokenBuckets {
  const buckets = new TokenBuckets(limit);
  const described = describeRateLimit(limit);
  app.addHook("preHandler", async (request, reply) => {
    // Routes that need no key have no actor (null, or undefined where a plugin's own routes
    // were registered before the decoration, as /docs is).
    const actor = request.actor as Actor | null | undefined;
    if (actor == null) return;
    const take = buckets.take(actor.api_key_id ?? actor.organization_id);
    reply.header("ratelimit-limit", limit.burst);
    reply.header("ratelimit-remaining", take.remaining);
    reply.header("ratelimit-reset", Math.ceil(take.resetMs / 1000));
    if (!take.allowed) {
      onLimited();
      const retryAfterS = Math.max(1, Math.ceil(take.retryAfterMs / 1000));
      throw new TooManyRequestsError("RATE_LIMITED", `rate limit of ${described} per API key exceeded; retry in ${retryAfterS} s`, retryAfterS);
    }
  });
  return buckets;
}
