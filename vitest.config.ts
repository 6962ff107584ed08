import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/build-dashboard.ts"],
    // expect.poll waits for a state change up to this deadline (a loaded machine renders a
    // browser page in seconds, not the default 1 s); a poll that gets there returns at once.
    expect: { poll: { timeout: 10_000 } },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Test files share one PostgreSQL server but each works in its own schema.
    fileParallelism: true,
  },
});
