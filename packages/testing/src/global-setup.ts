import type { TestProject } from "vitest/node";

type RunSetup = typeof import("./run-setup.ts");

/** The run's set-up, shared by every project that lists this file: done once, cleaned up after the last. */
const shared = globalThis as { tidingsSetup?: { projects: number; ready: Promise<RunSetup> } };

/**
 * The global set-up of the projects that need Postgres and RabbitMQ (integration, console): the run's set-up
 * (run-setup.ts) the first time, then cleaned up when the last of them ends. It imports run-setup.ts (and with it
 * the workspace's packages) only then: each project loads its global set-up in a module runner of its own, and two
 * copies of a package that registers metrics would clash in vitest's one process.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const run = String(process.pid);
  project.provide("tidingsRunId", run);
  shared.tidingsSetup ??= {
    projects: 0,
    ready: import("./run-setup.ts").then(async (runSetup) => {
      await runSetup.prepare(run);
      return runSetup;
    }),
  };
  const state = shared.tidingsSetup;
  state.projects++;
  const runSetup = await state.ready;
  return async () => {
    if (--state.projects === 0) {
      shared.tidingsSetup = undefined;
      await runSetup.cleanup(run);
    }
  };
}
