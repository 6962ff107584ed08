import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/build-dashboard.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Test files share one PostgreSQL server but each works in its own schema.
    fileParallelism: true,
  },
});
