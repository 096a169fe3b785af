import { randomBytes } from "node:crypto";
import { deleteNamespace, scratchNamespace } from "@tidings/amqp";
import { dropDatabase, ensureDatabase } from "@tidings/db";
import pino, { type Logger } from "pino";
import { inject } from "vitest";
import { AMQP_URL, DATABASE_SERVER } from "./env.ts";

declare module "vitest" {
  interface ProvidedContext {
    tidingsRunId: string;
  }
}

/**
 * The test run (the pid of vitest's main process): database names carry it, so runs never touch each other. In a
 * test worker vitest provides it; a process that a global set-up starts for the run gets it as TIDINGS_TEST_RUN.
 */
export const runId = (): string =>
  process.env.VITEST_POOL_ID ? inject("tidingsRunId") : (process.env.TIDINGS_TEST_RUN ?? String(process.pid));

const dbName = (service: string) => service.replaceAll("-", "_");
export const templateName = (service: string, run: string = runId()) =>
  `tidings_test_${run}_tpl_${dbName(service)}`;

const suffix = () => randomBytes(5).toString("hex");

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh database for one test file, cloned from the service's migrated template (see global-setup). */
export async function createTestDatabase(service: string): Promise<TestDatabase> {
  const url = `${DATABASE_SERVER}/tidings_test_${runId()}_${dbName(service)}_${suffix()}`;
  await ensureDatabase(url, templateName(service));
  return { url, drop: () => dropDatabase(url) };
}

export interface TestNamespace {
  namespace: string;
  /** Deletes every exchange and queue of the namespace. */
  cleanup(): Promise<void>;
}

/**
 * A unique AMQP name prefix for one test file, named for this run (`test-<time>-<run>-<random>`): the run's
 * teardown, or its janitor if the run is killed, deletes it with the run's other namespaces.
 */
export function createTestNamespace(): TestNamespace {
  const namespace = scratchNamespace("test", Number(runId()));
  return { namespace, cleanup: () => deleteNamespace(AMQP_URL, namespace) };
}

/** A quiet logger for tests (LOG_LEVEL=debug shows everything). */
export const testLogger = (): Logger => pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
