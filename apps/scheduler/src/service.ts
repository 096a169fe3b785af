import { registerHookRoutes, startConfiguredHookDispatcher } from "@tidings/hooks";
import type { ServiceDefinition } from "@tidings/service-kit";
import { type Clock, systemClock } from "@tidings/service-kit";
import { catchUpLimits, loadSchedulerConfig, type SchedulerConfig } from "./config.ts";
import { consumeContentSchedules } from "./consumers/content-schedules.consumer.ts";
import { consumeHttpDeliveries } from "./consumers/http-deliveries.consumer.ts";
import { createDb, type Db } from "./db.ts";
import { failedTaskRoutes } from "./routes/failed-tasks.routes.ts";
import { scheduleRoutes } from "./routes/schedules.routes.ts";
import { HOOK_EVENTS } from "./services/schedules.ts";
import { Ticker } from "./ticker.ts";

/** The scheduler; `clock` is replaceable so tests control time. */
export function schedulerService(clock: Clock = systemClock): ServiceDefinition<SchedulerConfig, Db> {
  return {
    name: "scheduler",
    version: "0.1.0",
    loadConfig: loadSchedulerConfig,
    createDb,
    routes: (app, { db, config }) => {
      scheduleRoutes(app, db, clock, config.PUBLIC_URL);
      failedTaskRoutes(app, db, config.PUBLIC_URL);
      registerHookRoutes(app, {
        db,
        events: HOOK_EVENTS,
        codePrefix: "SCHEDULER",
        publicUrl: config.PUBLIC_URL,
      });
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
