import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { deleteNamespace, scratchNamespace } from "@tidings/amqp";
import { catalog, type MessageName, namesFor, routingKeysFor } from "@tidings/contracts";
import { dropDatabase, ensureDatabase } from "@tidings/db";
import amqp from "amqplib";
import pino, { type Logger } from "pino";
import { inject } from "vitest";
import { AMQP_URL, DATABASE_SERVER } from "./env.ts";

declare module "vitest" {
  interface ProvidedContext {
    tidingsRunId: string;
  }
}

/** The test run (the pid of vitest's main process): database names carry it, so runs never touch each other. */
export const runId = (): string => inject("tidingsRunId");

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

/** Polls `check` until it returns a value other than undefined, null or false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs = 10_000, intervalMs = 50, what = "condition" } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) {
        return value as T;
      }
    } catch (err) {
      lastError = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`,
  );
}

export interface CapturedMessage {
  name: string;
  messageId: string;
  correlationId: string | undefined;
  payload: unknown;
}

export interface Capture {
  messages: CapturedMessage[];
  /** Messages of one name, payloads typed by the caller. */
  named<T = unknown>(name: string): T[];
  stop(): Promise<void>;
}

/**
 * Records every message published with one of `names` in a namespace, through a temporary exclusive queue
 * bound beside the real ones (it takes nothing from them).
 */
export async function captureMessages(namespace: string, names: readonly MessageName[]): Promise<Capture> {
  const topology = namesFor(namespace);
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true });
  for (const name of names) {
    const exchange = topology.exchange(catalog[name].exchange);
    await channel.assertExchange(exchange, "topic", { durable: true });
    for (const key of routingKeysFor(name)) {
      await channel.bindQueue(queue, exchange, key);
    }
  }
  const messages: CapturedMessage[] = [];
  await channel.consume(
    queue,
    (msg) => {
      if (msg) {
        messages.push({
          name: String(msg.properties.type),
          messageId: String(msg.properties.messageId),
          correlationId: msg.properties.correlationId,
          payload: JSON.parse(msg.content.toString("utf8")),
        });
      }
    },
    { noAck: true },
  );
  return {
    messages,
    named: <T>(name: string) => messages.filter((m) => m.name === name).map((m) => m.payload as T),
    stop: () => connection.close(),
  };
}

export { type Cleaned, cleanupRun, dropDatabases, startJanitor } from "./cleanup.ts";
export { AMQP_URL, DATABASE_SERVER } from "./env.ts";
export { ROOT, type Role, type ServiceProcess, spawnService, waitForHealthy } from "./processes.ts";
