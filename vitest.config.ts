import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    // tests that race real processes must not fail on a slow CI machine: no retries, no hidden flakiness
    retry: 0,
  },
});
