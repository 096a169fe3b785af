import { configDefaults, defineConfig } from "vitest/config";

/** Integration tests: real Postgres and RabbitMQ, service bundles and processes (the global set-up provides them). */
const integration = ["{apps,packages}/*/{src,test}/**/*.int.test.ts", "packages/e2e/test/**/*.test.ts"];
/** The console's browser tests: one platform stack for all of them, started only when the run has any. */
const consoleTests = ["apps/console/test/**/*.int.test.ts"];
const sharedSetup = "packages/testing/src/global-setup.ts";

// `vitest run` runs both projects; `vitest run --project unit` (pnpm test:unit) needs neither Postgres nor RabbitMQ.
export default defineConfig({
  test: {
    reporters: ["default", "./packages/testing/src/summary-reporter.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    retry: process.env.CI ? 1 : 0,
    pool: "forks",
    // Two files at a time even on two cores (vitest's default there is one): most of an integration file's time is
    // spent waiting on Postgres, RabbitMQ, HTTP and timers, not on its own CPU. VITEST_MAX_WORKERS overrides.
    maxWorkers: Number(process.env.VITEST_MAX_WORKERS ?? 2),
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["{apps,packages}/*/{src,test}/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...integration],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: integration,
          exclude: [...configDefaults.exclude, ...consoleTests],
          globalSetup: [sharedSetup],
        },
      },
      {
        extends: true,
        test: {
          name: "console",
          include: consoleTests,
          globalSetup: [sharedSetup, "apps/console/test/global-setup.ts"],
        },
      },
    ],
  },
});
