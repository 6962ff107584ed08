/** Server settings from the environment and flags: defaults, overrides, and clear refusals. */
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("server configuration", () => {
  it("delivers 16 webhooks at once per process unless RUNLEDGER_WEBHOOK_CONCURRENCY says otherwise", () => {
    expect(loadConfig([], {}).webhooks.concurrency).toBe(16);
    expect(loadConfig([], { RUNLEDGER_WEBHOOK_CONCURRENCY: "64" }).webhooks.concurrency).toBe(64);
  });

  it("refuses a webhook concurrency that is not a positive integer, naming the setting", () => {
    for (const value of ["0", "-3", "2.5", "many", "100000"]) {
      expect(() => loadConfig([], { RUNLEDGER_WEBHOOK_CONCURRENCY: value })).toThrow(ConfigError);
      expect(() => loadConfig([], { RUNLEDGER_WEBHOOK_CONCURRENCY: value })).toThrow(/RUNLEDGER_WEBHOOK_CONCURRENCY must be an integer from 1 to 1000/);
    }
  });

  it("lets flags win over the environment", () => {
    const config = loadConfig(["--port", "9000", "--host", "0.0.0.0"], { PORT: "8000", HOST: "127.0.0.1" });
    expect({ port: config.port, host: config.host }).toEqual({ port: 9000, host: "0.0.0.0" });
  });
});
