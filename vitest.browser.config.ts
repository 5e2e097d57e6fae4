import { defineConfig } from "vitest/config";

// The dashboard's browser test: Node only (playwright-core drives Debian's
// chromium), run once by `npm run test:browser` rather than on every runtime.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 1,
    retry: 0,
  },
});
