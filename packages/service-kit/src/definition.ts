import type { Broker, PublishedMessage, SqlExecutor } from "@tidings/amqp";
import type { Service } from "@tidings/contracts";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { BaseConfig } from "./config.ts";
import type { Stop } from "./lifecycle.ts";
import type { Api } from "./routes.ts";

export interface Database extends SqlExecutor {
  $disconnect(): Promise<void>;
}

export type ServiceConfig = BaseConfig & { PORT: number };

export interface ServiceDeps<C extends ServiceConfig, D extends Database> {
  config: C;
  logger: Logger;
  db: D;
  broker: Broker;
}

/** Adds a service's own routes to its API. */
export type RegisterRoutes<C extends ServiceConfig, D extends Database> = (
  app: Api,
  deps: ServiceDeps<C, D>,
) => void | Promise<void>;

/** What makes one service: its config, database client, routes and consumers. */
export interface ServiceDefinition<C extends ServiceConfig, D extends Database> {
  name: Service;
  version: string;
  loadConfig(env: Record<string, string | undefined>): C;
  createDb(url: string): D;
  /**
   * Loads the service's routes with `await import(...)`, called by the API role only: the bundle keeps
   * dynamically imported modules in their own chunk, so a worker process never loads the route modules,
   * their schemas, fastify or its OpenAPI plugins (see README.md).
   */
  routes(): Promise<RegisterRoutes<C, D>>;
  /** Starts the service's consumers (and tickers); returns their graceful stop. */
  startConsumers(deps: ServiceDeps<C, D>): Promise<Stop>;
  /** Adds the service's scrape-time gauges to a worker's registry (the scheduler's lag). */
  workerMetrics?(deps: ServiceDeps<C, D>, registry: Registry): void;
  /**
   * `enforced`: the service's routes keep what `test` and `team` keys promise (message-sender: a test key's sends go
   * to the log channel, a team key's only to its allow-list), refusing them where they cannot (`config.liveKeysOnly`).
   * Absent (every other service): its API refuses `test` and `team` keys on every route, 403 KEY_KIND_NOT_ALLOWED,
   * since a subscription, a topic publish, a verification or another person's identity would reach people past them.
   */
  keyKinds?: "enforced";
  /** Told of each batch its process's outbox relay published (a worker's, or an API process's own; see OutboxRelayOptions.onPublished). */
  onPublished?(deps: ServiceDeps<C, D>, messages: PublishedMessage[]): void;
}

/** A routes module: what `import("./routes/index.ts")` gives. */
export interface RoutesModule<C extends ServiceConfig, D extends Database> {
  registerRoutes: RegisterRoutes<C, D>;
}

/** A service's parts, as `defineService` takes them. */
export type ServiceParts<C extends ServiceConfig, D extends Database> = Omit<
  ServiceDefinition<C, D>,
  "name" | "version" | "routes"
> & {
  /**
   * Imports the routes module on demand (`() => import("./routes/index.ts")`), so worker processes never load
   * the API side; or gives, once imported, the routes with what more they need than the service's deps.
   */
  routes(): Promise<RoutesModule<C, D> | RegisterRoutes<C, D>>;
};

/** The definition of the service `name` (version 0.1.0) from its parts. */
export function defineService<C extends ServiceConfig, D extends Database>(
  name: Service,
  parts: ServiceParts<C, D>,
): ServiceDefinition<C, D> {
  return {
    ...parts,
    name,
    version: "0.1.0",
    routes: async () => {
      const routes = await parts.routes();
      return typeof routes === "function" ? routes : routes.registerRoutes;
    },
  };
}
