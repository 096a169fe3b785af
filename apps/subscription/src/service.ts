import type { ServiceDefinition } from "@tidings/service-kit";
import { loadSubscriptionConfig, type SubscriptionConfig } from "./config.ts";
import { startConsumers } from "./consumers/index.ts";
import { createDb, type Db } from "./db.ts";

export const subscriptionService: ServiceDefinition<SubscriptionConfig, Db> = {
  name: "subscription",
  version: "0.1.0",
  loadConfig: loadSubscriptionConfig,
  createDb,
  // Imported on demand so worker processes never load the API side.
  routes: async () => (await import("./routes/index.ts")).registerRoutes,
  startConsumers,
};
