import { type Clock, defineService, type ServiceDefinition, systemClock } from "@tidings/service-kit";
import { loadSubscriptionConfig, type SubscriptionConfig } from "./config.ts";
import { startConsumers } from "./consumers/index.ts";
import { createDb, type Db } from "./db.ts";

/** The subscription service, its API on `clock` (the time the Seed send trigger finds its slot at; tests set it). */
export function subscriptionServiceAt(clock: Clock): ServiceDefinition<SubscriptionConfig, Db> {
  return defineService("subscription", {
    loadConfig: loadSubscriptionConfig,
    createDb,
    routes: async () => {
      const { registerRoutes } = await import("./routes/index.ts");
      return (app, deps) => registerRoutes(app, { ...deps, clock });
    },
    startConsumers,
  });
}

export const subscriptionService = subscriptionServiceAt(systemClock);
