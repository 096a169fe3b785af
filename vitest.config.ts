import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["{apps,packages}/*/{src,test}/**/*.test.ts"],
    globalSetup: ["packages/testing/src/global-setup.ts"],
    reporters: ["default", "./packages/testing/src/summary-reporter.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    retry: process.env.CI ? 1 : 0,
    pool: "forks",
  },
});
