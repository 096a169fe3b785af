import { Broker, OutboxRelay, probeBroker, pruneProcessedMessages, type SqlExecutor } from "@tidings/amqp";
import type { Database, ServiceConfig, ServiceDefinition, ServiceDeps } from "./definition.ts";
import { pruneIdempotencyKeys } from "./idempotency.ts";
import { runProcess, type Stop, stopAll } from "./lifecycle.ts";
import { pruneTokenUsage } from "./limits.ts";
import { createLogger } from "./logger.ts";
import type { Api } from "./routes.ts";

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

/** The worker side: the outbox relay, pruning of expired records, and the service's consumers. */
export async function startServiceWorker<C extends ServiceConfig, D extends Database>(
  def: ServiceDefinition<C, D>,
  deps: ServiceDeps<C, D>,
): Promise<Stop> {
  const relay = new OutboxRelay({
    databaseUrl: deps.config.DATABASE_URL,
    broker: deps.broker,
    logger: deps.logger,
  });
  await relay.start();
  const prune = setInterval(() => {
    pruneExpired(deps.db).then(
      (pruned) =>
        Object.values(pruned).some((n) => n > 0) && deps.logger.info({ pruned }, "expired records pruned"),
      (err: unknown) => deps.logger.warn({ err }, "pruning expired records failed"),
    );
  }, 3600_000);
  prune.unref();
  const stopConsumers = await def.startConsumers(deps);
  // Consumers first (they may enqueue), then the relay publishes what is left.
  return stopAll(
    deps.logger,
    stopConsumers,
    async () => clearInterval(prune),
    () => relay.stop(),
  );
}

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
      const app = await buildServiceApi(def, deps);
      await app.listen({ port: config.PORT, host: config.HOST });
      return stopAll(
        logger,
        () => app.close(),
        () => broker.close(),
        () => db.$disconnect(),
      );
    }
    const stopWorker = await startServiceWorker(def, deps);
    logger.info("worker started");
    return stopAll(
      logger,
      stopWorker,
      () => broker.close(),
      () => db.$disconnect(),
    );
  });
}
