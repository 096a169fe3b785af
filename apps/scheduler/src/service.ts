import { startConfiguredHookDispatcher } from "@tidings/hooks";
import type { ServiceDefinition } from "@tidings/service-kit";
import { type Clock, systemClock } from "@tidings/service-kit";
import { catchUpLimits, loadSchedulerConfig, type SchedulerConfig } from "./config.ts";
import { consumeContentSchedules } from "./consumers/content-schedules.consumer.ts";
import { consumeHttpDeliveries } from "./consumers/http-deliveries.consumer.ts";
import { createDb, type Db } from "./db.ts";
import { Ticker } from "./ticker.ts";

/** The scheduler; `clock` is replaceable so tests control time. */
export function schedulerService(clock: Clock = systemClock): ServiceDefinition<SchedulerConfig, Db> {
  return {
    name: "scheduler",
    version: "0.1.0",
    loadConfig: loadSchedulerConfig,
    createDb,
    // Imported on demand so worker processes never load the API side.
    routes: async () => {
      const { registerRoutes } = await import("./routes/index.ts");
      return (app, deps) => registerRoutes(app, deps, clock);
    },
    async startConsumers({ broker, db, config, logger }) {
      const stopHooks = startConfiguredHookDispatcher(db, logger, config);
      const content = await consumeContentSchedules(broker, db, clock, config.AMQP_PREFETCH);
      const deliveries = await consumeHttpDeliveries(
        broker,
        db,
        clock,
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
