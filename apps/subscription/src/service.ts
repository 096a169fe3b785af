import { startConfiguredHookDispatcher } from "@tidings/hooks";
import type { ServiceDefinition } from "@tidings/service-kit";
import { loadSubscriptionConfig, type SubscriptionConfig } from "./config.ts";
import { startSubscriptionConsumers } from "./consumers/index.ts";
import { createDb, type Db } from "./db.ts";

export const subscriptionService: ServiceDefinition<SubscriptionConfig, Db> = {
  name: "subscription",
  version: "0.1.0",
  loadConfig: loadSubscriptionConfig,
  createDb,
  // Imported on demand so worker processes never load the API side.
  routes: async () => (await import("./routes/index.ts")).registerRoutes,
  async startConsumers({ broker, db, config, logger }) {
    const consumers = await startSubscriptionConsumers(broker, db, config, logger);
    const stopHooks = startConfiguredHookDispatcher(db, logger, config);
    return async () => {
      await stopHooks();
      await Promise.all(consumers.map((c) => c.stop()));
    };
  },
};
