import path from "node:path";
import { fileURLToPath } from "node:url";
import { deleteScratchNamespaces, probeBroker } from "@tidings/amqp";
import { applyMigrations, dropDatabase } from "@tidings/db";
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

/**
 * Once per test run: checks that Postgres and RabbitMQ answer (a hung broker fails the run in seconds, saying why),
 * deletes what earlier runs left behind (test databases of runs whose process is gone, scratch namespaces older than
 * an hour), starts a janitor that cleans up after this run however it ends, builds each service's template database
 * by applying its migrations (test files clone it), and bundles each service (~1 s) so tests that start service
 * processes run the current sources.
 */
export async function prepare(run: string): Promise<void> {
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

/** At the run's end: deletes its scratch namespaces and drops its databases. */
export async function cleanup(run: string): Promise<void> {
  await cleanupRun(Number(run), [runDatabases(run)]);
}
