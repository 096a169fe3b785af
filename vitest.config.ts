import { configDefaults, defineConfig } from "vitest/config";

/** Integration tests: real Postgres and RabbitMQ, service bundles and processes (the global set-up provides them). */
const integration = ["{apps,packages}/*/{src,test}/**/*.int.test.ts", "packages/e2e/test/**/*.test.ts"];
/** The console's browser tests: one platform stack for all of them, started only when the run has any. */
const consoleTests = ["apps/console/test/**/*.int.test.ts"];
/**
 * Integration tests that need a process of their own: each starts OpenTelemetry's SDK, which registers itself
 * process-wide once (a service process starts one); in a process shared with other files it would find another's.
 */
const ownProcess = [
  "apps/message-sender/test/tracing.int.test.ts",
  "packages/service-kit/test/tracing-export.int.test.ts",
];
const sharedSetup = "packages/testing/src/global-setup.ts";

// `vitest run` runs every project; `vitest run --project unit` (pnpm test:unit) needs neither Postgres nor RabbitMQ.
export default defineConfig({
  test: {
    reporters: ["default", "./packages/testing/src/summary-reporter.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    retry: process.env.CI ? 1 : 0,
    pool: "forks",
    // A worker runs its files one after another in one process, importing the workspace's modules once: 43% less
    // of the run's CPU (376 -> 214 s of user time, measured) and a fifth of its time. A file's own state is its fixtures';
    // what a process holds across files (prom-client's default registry) is reset before each (setupFiles).
    // VITEST_ISOLATE=1 gives each file a process of its own again, to tell whether another file's leftovers are
    // the cause of a failure.
    isolate: process.env.VITEST_ISOLATE === "1",
    setupFiles: ["packages/testing/src/file-setup.ts"],
    // Three files at a time on two cores (vitest's default there is one): most of an integration file's time is
    // spent waiting on Postgres, RabbitMQ, HTTP and timers, not on its own CPU (the whole run: 354 s with two, 289 s
    // with three, the cores 60% and 74% busy). VITEST_MAX_WORKERS overrides.
    maxWorkers: Number(process.env.VITEST_MAX_WORKERS ?? 3),
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
          exclude: [...configDefaults.exclude, ...consoleTests, ...ownProcess],
          globalSetup: [sharedSetup],
        },
      },
      {
        extends: true,
        test: {
          name: "own-process",
          include: ownProcess,
          isolate: true,
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
