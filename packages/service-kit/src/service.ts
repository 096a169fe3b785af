import { Broker, OutboxRelay, probeBroker, pruneProcessedMessages, type SqlExecutor } from "@tidings/amqp";
import type { Database, ServiceConfig, ServiceDefinition, ServiceDeps } from "./definition.ts";
import { pruneIdempotencyKeys } from "./idempotency.ts";
import { runProcess, type Stopper, stopAll } from "./lifecycle.ts";
import { pruneTokenUsage } from "./limits.ts";
import { createLogger } from "./logger.ts";
import type { Api } from "./routes.ts";
import { processRegistry, registerWorkerGauges, scrapeRegistry } from "./telemetry.ts";
import { startTracing } from "./tracing.ts";
import { startWorkerHttp } from "./worker-http.ts";

/** Processed-message records are kept this long: far longer than any redelivery or retry takes. */
const PROCESSED_RETENTION_MS = 7 * 24 * 3600_000;

/**
 * The service's API: the dead-letter routes and the service's own. Imported here, for the API role only (its
 * module, not app.ts itself: a dynamically imported module that index.ts re-exports would stay in the main chunk).
 */
export async function buildServiceApi<C extends ServiceConfig, D extends Database>(
  def: ServiceDefinition<C, D>,
  deps: ServiceDeps<C, D>,
): Promise<Api> {
  const { buildDefinedApi } = await import("./service-api.ts");
  return buildDefinedApi(def, deps);
}

/** Forgets processed-message records, expired Idempotency-Keys and past days' API key counters. */
async function pruneExpired(db: SqlExecutor): Promise<Record<string, number>> {
  return {
    processedMessages: await pruneProcessedMessages(db, PROCESSED_RETENTION_MS),
    idempotencyKeys: await pruneIdempotencyKeys(db),
    tokenUsage: await pruneTokenUsage(db),
  };
}

/** A worker's HTTP listener (see startWorkerHttp): its port (0: any free one) and address. */
export interface WorkerHttp {
  port: number;
  host?: string;
  /** A default port, not one configured: when it is taken, any free port will do. */
  anyPortIfTaken?: boolean;
}

/**
 * The worker side: the outbox relay, pruning of expired records, the service's consumers and, with `http`, the
 * worker's HTTP listener (/health, /ready, /metrics). The stop it returns carries the listener's port.
 */
export async function startServiceWorker<C extends ServiceConfig, D extends Database>(
  def: ServiceDefinition<C, D>,
  deps: ServiceDeps<C, D>,
  http?: WorkerHttp,
): Promise<Stopper & { port?: number }> {
  const relay = await startRelay(def, deps, { watch: true });
  const prune = setInterval(() => {
    pruneExpired(deps.db).then(
      (pruned) =>
        Object.values(pruned).some((n) => n > 0) && deps.logger.info({ pruned }, "expired records pruned"),
      (err: unknown) => deps.logger.warn({ err }, "pruning expired records failed"),
    );
  }, 3600_000);
  prune.unref();
  // Before the consumers: a configured port that is taken fails the start before anything is consumed.
  const listener = http
    ? await startWorkerHttp({ ...workerMetrics(def, deps), ...http, host: http.host ?? deps.config.HOST })
    : undefined;
  const stopConsumers = await def.startConsumers(deps);
  // Consumers first (they may enqueue), then the relay publishes what is left; the listener answers until the end.
  const stop = stopAll(deps.logger, {
    consumers: stopConsumers,
    pruning: async () => clearInterval(prune),
    relay: () => relay.stop(),
    listener: listener?.stop,
  });
  return Object.assign(stop, { port: listener?.port });
}

/**
 * The process's outbox relay, kicked by the statements it runs on `deps.db` (see enqueueStatement's `db`). `watch`:
 * a worker's also listens and polls, publishing what any process wrote; an API process's publishes only its own.
 */
async function startRelay<C extends ServiceConfig, D extends Database>(
  def: ServiceDefinition<C, D>,
  deps: ServiceDeps<C, D>,
  { watch }: { watch: boolean },
): Promise<OutboxRelay> {
  const relay = new OutboxRelay({
    databaseUrl: deps.config.DATABASE_URL,
    broker: deps.broker,
    logger: deps.logger,
    db: deps.db,
    watch,
    onPublished: def.onPublished && ((messages) => def.onPublished?.(deps, messages)),
  });
  await relay.start();
  return relay;
}

/** What a worker's listener needs: its checks, and its metrics (process, queues, outbox, the service's own). */
function workerMetrics<C extends ServiceConfig, D extends Database>(
  def: ServiceDefinition<C, D>,
  deps: ServiceDeps<C, D>,
) {
  const registry = processRegistry();
  registerWorkerGauges(registry, { service: def.name, broker: deps.broker, db: deps.db });
  def.workerMetrics?.(deps, registry);
  return {
    logger: deps.logger,
    db: deps.db,
    broker: deps.broker,
    metrics: () => scrapeRegistry(registry, def.name),
  };
}

/** The worker listener's port: WORKER_HTTP_PORT, else the API's port + 100 (identity 3001: 3101). */
export const workerHttpPort = (config: ServiceConfig): number => config.WORKER_HTTP_PORT ?? config.PORT + 100;

/** The entry point of a service process: `api` listens on PORT, `worker` consumes. Stops on SIGINT/SIGTERM. */
export function runService<C extends ServiceConfig, D extends Database>(
  def: ServiceDefinition<C, D>,
  role: string | undefined,
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  if (role !== "api" && role !== "worker") {
    throw new Error(`usage: main.ts api|worker (got ${role ?? "nothing"})`);
  }
  const config = def.loadConfig(env);
  const logger = createLogger(`${def.name}-${role}`, config.LOG_LEVEL);
  return runProcess(logger, async () => {
    const stopTracing = await startTracing(`tidings-${def.name}`, env, logger);
    // Seconds, not a stalled start, when the broker accepts connections but never answers them.
    await probeBroker(config.AMQP_URL);
    const db = def.createDb(config.DATABASE_URL);
    const broker = await Broker.connect({
      url: config.AMQP_URL,
      namespace: config.AMQP_NAMESPACE,
      service: def.name,
      logger,
    });
    const deps = { config, logger, db, broker };
    if (role === "api") {
      const relay = await startRelay(def, deps, { watch: false });
      const app = await buildServiceApi(def, deps);
      await app.listen({ port: config.PORT, host: config.HOST });
      return stopAll(logger, {
        api: () => app.close(),
        relay: () => relay.stop(),
        broker: () => broker.close(),
        database: () => db.$disconnect(),
        tracing: stopTracing,
      });
    }
    const stopWorker = await startServiceWorker(def, deps, {
      port: workerHttpPort(config),
      host: config.HOST,
      // One more worker started by hand beside `pnpm start`'s finds the default taken: any port then (logged).
      anyPortIfTaken: config.WORKER_HTTP_PORT === undefined,
    });
    logger.info("worker started");
    return stopAll(logger, {
      worker: stopWorker,
      broker: () => broker.close(),
      database: () => db.$disconnect(),
      tracing: stopTracing,
    });
  });
}
