import path from "node:path";
import { fileURLToPath } from "node:url";
import { deleteScratchNamespaces, probeBroker } from "@tidings/amqp";
import { applyMigrations, dropDatabase } from "@tidings/db";
import type { TestProject } from "vitest/node";
import { buildServices, serviceNames } from "./build.ts";
import { cleanupRun, dropDatabases, startJanitor } from "./cleanup.ts";
import { AMQP_URL, DATABASE_SERVER } from "./env.ts";
import { templateName } from "./resources.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const runDatabases = (run: string) => `tidings_test_${run}_`;

/** The run's set-up, shared by every project that lists this file (each calls it; it is done once). */
const shared = globalThis as { tidingsSetup?: { projects: number; ready: Promise<void> } };

/**
 * Once per test run: checks that Postgres and RabbitMQ answer (a hung broker fails the run in seconds, saying why),
 * deletes what earlier runs left behind (test databases of runs whose process is gone, scratch namespaces older than
 * an hour), starts a janitor that cleans up after this run however it ends, builds each service's template database
 * by applying its migrations (test files clone it), and bundles each service (~1 s) so tests that start service
 * processes run the current sources. Several projects may list it (integration, console): the last one's teardown
 * cleans up.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const run = String(process.pid);
  project.provide("tidingsRunId", run);
  shared.tidingsSetup ??= { projects: 0, ready: prepare(run) };
  const state = shared.tidingsSetup;
  state.projects++;
  await state.ready;
  return async () => {
    if (--state.projects === 0) {
      shared.tidingsSetup = undefined;
      await cleanupRun(process.pid, [runDatabases(run)]);
    }
  };
}

async function prepare(run: string): Promise<void> {
  await probeBroker(AMQP_URL);
  await dropDatabases(["tidings_test_"], (name) => {
    const owner = /^tidings_test_(\d+)_/.exec(name)?.[1];
    return !owner || !isAlive(Number(owner));
  }).catch((err: Error) => {
    throw new Error(`Postgres is not reachable at ${DATABASE_SERVER}: ${err.message}`);
  });
  await deleteScratchNamespaces(AMQP_URL);
  startJanitor([runDatabases(run)]);

  const apps = path.join(root, "apps");
  const services = await serviceNames();
  await Promise.all([
    buildServices(services),
    ...services.map(async (service) => {
      const url = `${DATABASE_SERVER}/${templateName(service, run)}`;
      await dropDatabase(url);
      await applyMigrations(path.join(apps, service), url);
    }),
  ]);
}
