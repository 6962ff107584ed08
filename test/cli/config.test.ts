/** Server settings from the environment and flags: defaults, overrides, and clear refusals. */
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("server configuration", () => {
  it("delivers 16 webhooks at once per process unless RUNLEDGER_WEBHOOK_CONCURRENCY says otherwise", () => {
    expect(loadConfig([], {}).webhooks.concurrency).toBe(64);
    expect(loadConfig([], { RUNLEDGER_WEBHOOK_CONCURRENCY: "64" }).webhooks.concurrency).toBe(64);
  });

  it("refuses a webhook concurrency that is not a positive integer, naming the setting", () => {
    for (const value of ["0", "-3", "2.5", "many", "100000"]) {
      expect(() => loadConfig([], { RUNLEDGER_WEBHOOK_CONCURRENCY: value })).toThrow(ConfigError);
      expect(() => loadConfig([], { RUNLEDGER_WEBHOOK_CONCURRENCY: value })).toThrow(/RUNLEDGER_WEBHOOK_CONCURRENCY must be an integer from 1 to 1000/);
    }
  });

  it("limits no request rate unless RUNLEDGER_RATE_LIMIT is set, caps streams at 100 per key and buffers 1 MiB per stream", () => {
    expect(loadConfig([], {}).limits).toEqual({ rate: undefined, maxStreamsPerKey: 100, streamBufferBytes: 1_048_576, streamStallMs: 30_000 });
    expect(loadConfig([], { RUNLEDGER_RATE_LIMIT: "off" }).limits.rate).toBeUndefined();
    expect(loadConfig([], { RUNLEDGER_MAX_STREAMS_PER_KEY: "0", RUNLEDGER_STREAM_BUFFER: "65536", RUNLEDGER_STREAM_STALL_TIMEOUT: "5s" }).limits).toMatchObject({
      maxStreamsPerKey: 0,
      streamBufferBytes: 65_536,
      streamStallMs: 5_000,
    });
  });

  it("reads a rate as requests per period, the burst defaulting to one period's requests", () => {
    const rate = (value: string, burst?: string) => loadConfig([], { RUNLEDGER_RATE_LIMIT: value, RUNLEDGER_RATE_LIMIT_BURST: burst }).limits.rate;
    expect(rate("20/s")).toEqual({ requests: 20, periodMs: 1_000, burst: 20 });
    expect(rate("600/m", "50")).toEqual({ requests: 600, periodMs: 60_000, burst: 50 });
    expect(rate("10000/hour")).toEqual({ requests: 10_000, periodMs: 3_600_000, burst: 10_000 });
    expect(rate(" 100 / 10s ")).toEqual({ requests: 100, periodMs: 10_000, burst: 100 });
  });

  it("refuses a malformed rate, burst, stream cap or buffer, naming the setting and its form", () => {
    for (const value of ["20", "20/", "/s", "0/s", "-1/s", "2.5/s", "20/fortnight", "20/0s", "twenty/s"]) {
      expect(() => loadConfig([], { RUNLEDGER_RATE_LIMIT: value }), value).toThrow(ConfigError);
      expect(() => loadConfig([], { RUNLEDGER_RATE_LIMIT: value }), value).toThrow(/RUNLEDGER_RATE_LIMIT must be <requests>\/<period> such as 20\/s/);
    }
    for (const value of ["0", "1.5", "lots"]) {
      expect(() => loadConfig([], { RUNLEDGER_RATE_LIMIT: "20/s", RUNLEDGER_RATE_LIMIT_BURST: value })).toThrow(/RUNLEDGER_RATE_LIMIT_BURST must be an integer from 1/);
    }
    expect(() => loadConfig([], { RUNLEDGER_RATE_LIMIT_BURST: "40" })).toThrow(/RUNLEDGER_RATE_LIMIT_BURST needs RUNLEDGER_RATE_LIMIT/);
    expect(() => loadConfig([], { RUNLEDGER_MAX_STREAMS_PER_KEY: "-1" })).toThrow(/RUNLEDGER_MAX_STREAMS_PER_KEY must be an integer from 0/);
    expect(() => loadConfig([], { RUNLEDGER_STREAM_BUFFER: "1024" })).toThrow(/RUNLEDGER_STREAM_BUFFER must be an integer from 65536/);
    expect(() => loadConfig([], { RUNLEDGER_STREAM_BUFFER: "1MiB" })).toThrow(ConfigError);
    expect(() => loadConfig([], { RUNLEDGER_STREAM_STALL_TIMEOUT: "soon" })).toThrow(/RUNLEDGER_STREAM_STALL_TIMEOUT 'soon' is not a duration/);
  });

  it("lets flags win over the environment", () => {
    const config = loadConfig(["--port", "9000", "--host", "0.0.0.0"], { PORT: "8000", HOST: "127.0.0.1" });
    expect({ port: config.port, host: config.host }).toEqual({ port: 9000, host: "0.0.0.0" });
  });
});
