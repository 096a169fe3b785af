import { readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { applyMigrations, dropDatabase, withAdminClient } from "@tidings/db";
import amqp from "amqplib";
import { AMQP_URL, DATABASE_SERVER, templateName } from "./index.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * Once per test run: checks that Postgres and RabbitMQ answer, drops databases left by earlier runs, and
 * builds each service's template database by applying its migrations (test files clone it).
 */
export default async function setup(): Promise<void> {
  await withAdminClient(`${DATABASE_SERVER}/postgres`, async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'tidings\\_test\\_%'",
    );
    for (const { datname } of rows) {
      await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  }).catch((err: Error) => {
    throw new Error(`Postgres is not reachable at ${DATABASE_SERVER}: ${err.message}`);
  });
  const connection = await amqp.connect(AMQP_URL).catch((err: Error) => {
    throw new Error(`RabbitMQ is not reachable at ${AMQP_URL}: ${err.message}`);
  });
  await connection.close();

  const apps = path.join(root, "apps");
  const services = (await readdir(apps, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  for (const service of services) {
    const url = `${DATABASE_SERVER}/${templateName(service)}`;
    await dropDatabase(url);
    await applyMigrations(path.join(apps, service), url);
  }
}
