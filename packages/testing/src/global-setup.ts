import { readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { applyMigrations, dropDatabase, withAdminClient } from "@tidings/db";
import amqp from "amqplib";
import type { TestProject } from "vitest/node";
import { buildServices } from "./build.ts";
import { AMQP_URL, DATABASE_SERVER, templateName } from "./index.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Drops test databases of runs whose process is gone (or, with `run`, every database of that run). */
async function dropTestDatabases(run?: string): Promise<void> {
  await withAdminClient(`${DATABASE_SERVER}/postgres`, async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'tidings\\_test\\_%'",
    );
    for (const { datname } of rows) {
      const owner = /^tidings_test_(\d+)_/.exec(datname)?.[1];
      if (run ? owner === run : !owner || !isAlive(Number(owner))) {
        await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      }
    }
  });
}

/**
 * Once per test run: checks that Postgres and RabbitMQ answer, drops what dead runs left behind, builds
 * each service's template database by applying its migrations (test files clone it), and bundles each
 * service (~1 s) so tests that start service processes run the current sources.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const run = String(process.pid);
  project.provide("tidingsRunId", run);
  await dropTestDatabases().catch((err: Error) => {
    throw new Error(`Postgres is not reachable at ${DATABASE_SERVER}: ${err.message}`);
  });
  const connection = await amqp.connect(AMQP_URL).catch((err: Error) => {
    throw new Error(`RabbitMQ is not reachable at ${AMQP_URL}: ${err.message}`);
  });
  await connection.close();

  const apps = path.join(root, "apps");
  const services = (await readdir(apps, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  await Promise.all([
    buildServices(services),
    ...services.map(async (service) => {
      const url = `${DATABASE_SERVER}/${templateName(service, run)}`;
      await dropDatabase(url);
      await applyMigrations(path.join(apps, service), url);
    }),
  ]);
  return () => dropTestDatabases(run);
}
