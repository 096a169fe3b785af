import { startConfiguredHookDispatcher } from "@tidings/hooks";
import type { ServiceDefinition } from "@tidings/service-kit";
import { type Clock, type Lookup, systemClock, UrlPolicy } from "@tidings/service-kit";
import { catchUpLimits, loadSchedulerConfig, type SchedulerConfig } from "./config.ts";
import { consumeContentSchedules } from "./consumers/content-schedules.consumer.ts";
import { consumeHttpDeliveries } from "./consumers/http-deliveries.consumer.ts";
import { createDb, type Db } from "./db.ts";
import type { EndpointGuard } from "./endpoints.ts";
import { Ticker } from "./ticker.ts";

/** The scheduler; `clock` and the name resolution of HTTP endpoints are replaceable so tests control them. */
export function schedulerService(
  clock: Clock = systemClock,
  options: { lookup?: Lookup } = {},
): ServiceDefinition<SchedulerConfig, Db> {
  const guardOf = (config: SchedulerConfig): EndpointGuard => ({
    policy: new UrlPolicy(config.SCHEDULER_HTTP_ALLOWED_HOSTS),
    lookup: options.lookup,
  });
  return {
    name: "scheduler",
    version: "0.1.0",
    loadConfig: loadSchedulerConfig,
    createDb,
    // Imported on demand so worker processes never load the API side.
    routes: async () => {
      const { registerRoutes } = await import("./routes/index.ts");
      return (app, deps) => registerRoutes(app, { ...deps, clock, guard: guardOf(deps.config) });
    },
    async startConsumers({ broker, db, config, logger }) {
      const stopHooks = startConfiguredHookDispatcher(db, logger, config);
      const content = await consumeContentSchedules(broker, db, clock, config.AMQP_PREFETCH);
      const deliveries = await consumeHttpDeliveries(
        broker,
        db,
        clock,
        guardOf(config),
        config.AMQP_PREFETCH,
        config.HTTP_RETRY_DELAYS_MS
          ? { delaysMs: config.HTTP_RETRY_DELAYS_MS.split(",").map(Number) }
          : undefined,
      );
      const ticker = new Ticker(db, logger.child({ component: "ticker" }), clock, catchUpLimits(config));
      ticker.start(config.TICK_INTERVAL_MS);
      return async () => {
        await ticker.stop();
        await deliveries.stop();
        await content.stop();
        await stopHooks();
      };
    },
  };
}
