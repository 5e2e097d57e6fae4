import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // the browser test drives Chromium from Node only: `npm run test:browser` (vitest.browser.config.ts)
    exclude: [...configDefaults.exclude, "test/browser/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    // tests that race real processes must not fail on a slow CI machine: no retries, no hidden flakiness
    retry: 0,
  },
});
