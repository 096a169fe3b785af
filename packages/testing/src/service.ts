import { Broker } from "@tidings/amqp";
import { databaseEnvVar } from "@tidings/db";
import {
  type Api,
  buildServiceApi,
  type Database,
  type ServiceConfig,
  type ServiceDefinition,
  type ServiceDeps,
  type Stop,
  startServiceWorker,
} from "@tidings/service-kit";
import { AMQP_URL } from "./env.ts";
import { createTestDatabase, createTestNamespace, testLogger } from "./resources.ts";

export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789";
export const adminAuth = { authorization: `Token ${TEST_ADMIN_TOKEN}` } as const;

/**
 * The Authorization header of a new (non-admin) API user's token, issued through the admin API: a live key unless
 * `key` gives another kind (and its allow-list).
 */
export async function userAuth(
  app: Api,
  email: string,
  key: { kind?: "live" | "team" | "test"; allow_list?: string[] } = {},
): Promise<{ authorization: string }> {
  const issued = await app.inject({
    method: "POST",
    url: "/api/v1/user/token/",
    headers: adminAuth,
    payload: { email, ...key },
  });
  return { authorization: `Token ${issued.json().token}` };
}

export interface StartOptions {
  /** Also start its consumers and outbox relay. */
  worker?: boolean;
  /** An AMQP namespace shared with other services of the test (by default its own, deleted on close). */
  namespace?: string;
  /** Config on top of the test defaults. */
  env?: Record<string, string>;
  /** With `worker`: also its HTTP listener (/health, /ready, /metrics) on a free port, `workerPort`. */
  workerHttp?: boolean;
}

export interface TestService<C extends ServiceConfig, D extends Database> extends ServiceDeps<C, D> {
  app: Api;
  namespace: string;
  /** The worker's HTTP port (with `workerHttp`). */
  workerPort?: number;
  close(): Promise<void>;
}

/**
 * One service for an integration test: its own database cloned from the migrated template, an AMQP
 * namespace (shared when several services of one test talk to each other), its API (use `app.inject`),
 * and with `worker: true` its consumers and outbox relay.
 */
export async function startTestService<C extends ServiceConfig, D extends Database>(
  def: ServiceDefinition<C, D>,
  options: StartOptions = {},
): Promise<TestService<C, D>> {
  const database = await createTestDatabase(def.name);
  const ownNamespace = options.namespace ? undefined : createTestNamespace();
  const namespace = options.namespace ?? (ownNamespace?.namespace as string);
  const config = def.loadConfig({
    [databaseEnvVar(def.name)]: database.url,
    AMQP_URL,
    AMQP_NAMESPACE: namespace,
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    LOG_LEVEL: "silent",
    ...options.env,
  });
  const logger = testLogger();
  const db = def.createDb(config.DATABASE_URL);
  const broker = await Broker.connect({ url: config.AMQP_URL, namespace, service: def.name, logger });
  const deps = { config, logger, db, broker };
  const app = await buildServiceApi(def, deps);
  let stopWorker: (Stop & { port?: number }) | undefined;
  if (options.worker) {
    stopWorker = await startServiceWorker(
      def,
      deps,
      options.workerHttp ? { port: 0, host: "127.0.0.1" } : undefined,
    );
  }
  return {
    ...deps,
    app,
    namespace,
    workerPort: stopWorker?.port,
    async close() {
      await stopWorker?.();
      await app.close();
      await broker.close();
      await db.$disconnect();
      await database.drop();
      await ownNamespace?.cleanup();
    },
  };
}
