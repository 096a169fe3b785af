import { startConfiguredHookDispatcher } from "@tidings/hooks";
import { type Stop, stopAll } from "@tidings/service-kit";
import { catchUpLimits } from "../config.ts";
import { Ticker } from "../ticker.ts";
import { consumeContentSchedules } from "./content-schedules.consumer.ts";
import type { WorkerDeps } from "./deps.ts";
import { consumeHttpDeliveries } from "./http-deliveries.consumer.ts";

/** The scheduler worker: content schedule mirrors, HTTP deliveries, the ticker that fires due slots, REST hooks. */
export async function startConsumers(deps: WorkerDeps): Promise<Stop> {
  const { db, logger, config, clock } = deps;
  const stopHooks = startConfiguredHookDispatcher(db, logger, config);
  const content = await consumeContentSchedules(deps);
  const deliveries = await consumeHttpDeliveries(deps);
  const ticker = new Ticker(db, logger.child({ component: "ticker" }), clock, catchUpLimits(config));
  ticker.start(config.TICK_INTERVAL_MS);
  return stopAll(logger, {
    ticker: () => ticker.stop(),
    deliveries: () => deliveries.stop(),
    content: () => content.stop(),
    hooks: stopHooks,
  });
}
