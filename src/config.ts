/**
 * Server settings, from the environment and command-line flags (flags win). Every setting
 * is documented in the README's configuration table.
 */
import { parseArgs } from "node:util";
import { parseDuration, parseDurationList } from "./core/duration.js";
import { DEFAULT_RETRY_SCHEDULE_MS } from "./webhooks/retry-policy.js";
import { DEFAULT_WEBHOOK_CONCURRENCY } from "./webhooks/dispatcher.js";
import { DEFAULT_DATABASE_URL } from "./ledger.js";
import { DEFAULT_BODY_LIMIT } from "./http/server.js";
import type { RateLimit } from "./http/rate-limit.js";
import { DEFAULT_MAX_STREAMS_PER_KEY, DEFAULT_STREAM_BUFFER_BYTES, MIN_STREAM_BUFFER_BYTES } from "./http/sse.js";

export interface ServerConfig {
  host: string;
  port: number;
  databaseUrl: string;
  adminKey: string | undefined;
  logLevel: string;
  bodyLimit: number;
  poolSize: number;
  webhooks: {
    allowlist: string[];
    retryScheduleMs: number[];
    timeoutMs: number;
    /** Deliveries one process has in flight at most. */
    concurrency: number;
  };
  retention: {
    intervalMs: number;
    defaultGraceDays: number;
  };
  limits: {
    /** Requests per API key per process; undefined: no limit. */
    rate: RateLimit | undefined;
    /** Open event streams per API key per process; 0: no cap. */
    maxStreamsPerKey: number;
    /** Bytes an event stream may hold unsent before it waits for its reader. */
    streamBufferBytes: number;
    /** How long a stream waits for a reader that takes nothing of its full buffer. */
    streamStallMs: number;
  };
  reaper: {
    intervalMs: number;
    /** Server limits in seconds for runs without their own; 0 turns a check off. */
    defaults: { ttlS: number; maxDurationS: number; heartbeatTimeoutS: number };
  };
}

export class ConfigError extends Error {}

const FLAGS = {
  host: { type: "string" },
  port: { type: "string" },
  "database-url": { type: "string" },
  "log-level": { type: "string" },
} as const;

/** `serve`'s flags, parsed by `util.parseArgs` (strict: an unknown flag or a missing value is refused). */
function parseFlags(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}; options: ${Object.keys(FLAGS).map((f) => `--${f}`).join(", ")}`);
  }
}

function integer(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got '${value}'`);
  return n;
}

function duration(name: string, value: string): number {
  try {
    return parseDuration(value, name);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

function durations(name: string, value: string | undefined): number[] {
  if (value === undefined || value.trim() === "") return [...DEFAULT_RETRY_SCHEDULE_MS];
  try {
    return parseDurationList(value, name);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

function seconds(name: string, value: string): number {
  return Math.round(duration(name, value) / 1000);
}

const RATE_PERIODS: Record<string, number> = { s: 1_000, sec: 1_000, second: 1_000, m: 60_000, min: 60_000, minute: 60_000, h: 3_600_000, hour: 3_600_000 };

/**
 * `RUNLEDGER_RATE_LIMIT`: `<requests>/<period>` — `20/s`, `600/m`, `10000/h`, or a duration
 * such as `100/10s` — or `off` (the default). The burst is the bucket's size: as many
 * requests as one period allows unless `RUNLEDGER_RATE_LIMIT_BURST` says otherwise.
 */
export function parseRateLimit(value: string | undefined, burstValue: string | undefined): RateLimit | undefined {
  const text = value?.trim() ?? "";
  if (text === "" || text === "off" || text === "0") {
    if (burstValue !== undefined && burstValue.trim() !== "") throw new ConfigError("RUNLEDGER_RATE_LIMIT_BURST needs RUNLEDGER_RATE_LIMIT (e.g. 20/s)");
    return undefined;
  }
  const match = /^(\d+)\s*\/\s*(\S+)$/.exec(text);
  const requests = match === null ? NaN : Number(match[1]);
  const unit = match?.[2] ?? "";
  const periodMs = RATE_PERIODS[unit] ?? (/^\d/.test(unit) ? tryDuration(unit) : undefined);
  if (!Number.isSafeInteger(requests) || requests < 1 || periodMs === undefined || periodMs < 1) {
    throw new ConfigError(`RUNLEDGER_RATE_LIMIT must be <requests>/<period> such as 20/s, 600/m or 100/10s, or off; got '${text}'`);
  }
  const burst = burstValue === undefined || burstValue.trim() === "" ? requests : integer("RUNLEDGER_RATE_LIMIT_BURST", burstValue.trim(), 1, 1_000_000_000);
  return { requests, periodMs, burst };
}

function tryDuration(text: string): number | undefined {
  try {
    return parseDuration(text, "period");
  } catch {
    return undefined;
  }
}

export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const flags = parseFlags(argv);
  const raw = {
    host: flags.host ?? env.HOST,
    port: flags.port ?? env.PORT,
    databaseUrl: flags["database-url"] ?? env.DATABASE_URL,
    logLevel: flags["log-level"] ?? env.LOG_LEVEL,
  };
  const levels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
  const logLevel = raw.logLevel ?? "info";
  if (!levels.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${levels.join(", ")}`);
  return {
    host: raw.host ?? "127.0.0.1",
    port: integer("PORT", raw.port ?? "8283", 0, 65535),
    databaseUrl: raw.databaseUrl ?? DEFAULT_DATABASE_URL,
    adminKey: env.RUNLEDGER_ADMIN_KEY || undefined,
    logLevel,
    bodyLimit: integer("RUNLEDGER_BODY_LIMIT", env.RUNLEDGER_BODY_LIMIT ?? String(DEFAULT_BODY_LIMIT), 1024, 1024 ** 3),
    poolSize: integer("RUNLEDGER_DB_POOL_SIZE", env.RUNLEDGER_DB_POOL_SIZE ?? "10", 2, 1000),
    webhooks: {
      allowlist: (env.RUNLEDGER_WEBHOOK_ALLOWLIST ?? "").split(",").map((e) => e.trim()).filter(Boolean),
      retryScheduleMs: durations("RUNLEDGER_WEBHOOK_RETRY_SCHEDULE", env.RUNLEDGER_WEBHOOK_RETRY_SCHEDULE),
      timeoutMs: Math.max(100, duration("RUNLEDGER_WEBHOOK_TIMEOUT", env.RUNLEDGER_WEBHOOK_TIMEOUT ?? "10s")),
      concurrency: integer("RUNLEDGER_WEBHOOK_CONCURRENCY", env.RUNLEDGER_WEBHOOK_CONCURRENCY ?? String(DEFAULT_WEBHOOK_CONCURRENCY), 1, 1000),
    },
    retention: {
      intervalMs: Math.max(1_000, duration("RUNLEDGER_RETENTION_INTERVAL", env.RUNLEDGER_RETENTION_INTERVAL ?? "1h")),
      defaultGraceDays: duration("RUNLEDGER_SOFT_DELETE_GRACE", env.RUNLEDGER_SOFT_DELETE_GRACE ?? "7d") / 86_400_000,
    },
    limits: {
      rate: parseRateLimit(env.RUNLEDGER_RATE_LIMIT, env.RUNLEDGER_RATE_LIMIT_BURST),
      maxStreamsPerKey: integer("RUNLEDGER_MAX_STREAMS_PER_KEY", env.RUNLEDGER_MAX_STREAMS_PER_KEY ?? String(DEFAULT_MAX_STREAMS_PER_KEY), 0, 1_000_000),
      streamBufferBytes: integer("RUNLEDGER_STREAM_BUFFER", env.RUNLEDGER_STREAM_BUFFER ?? String(DEFAULT_STREAM_BUFFER_BYTES), MIN_STREAM_BUFFER_BYTES, 1024 ** 3),
      streamStallMs: Math.max(100, duration("RUNLEDGER_STREAM_STALL_TIMEOUT", env.RUNLEDGER_STREAM_STALL_TIMEOUT ?? "30s")),
    },
    reaper: {
      intervalMs: Math.max(10, duration("RUNLEDGER_REAPER_INTERVAL", env.RUNLEDGER_REAPER_INTERVAL ?? "5s")),
      defaults: {
        ttlS: seconds("RUNLEDGER_DEFAULT_TTL", env.RUNLEDGER_DEFAULT_TTL ?? "1h"),
        maxDurationS: seconds("RUNLEDGER_DEFAULT_MAX_DURATION", env.RUNLEDGER_DEFAULT_MAX_DURATION ?? "24h"),
        heartbeatTimeoutS: seconds("RUNLEDGER_DEFAULT_HEARTBEAT_TIMEOUT", env.RUNLEDGER_DEFAULT_HEARTBEAT_TIMEOUT ?? "10m"),
      },
    },
  };
}
