import type { ServiceDefinition } from "@tidings/service-kit";
import { loadSubscriptionConfig, type SubscriptionConfig } from "./config.ts";
import { startSubscriptionConsumers } from "./consumers/index.ts";
import { createDb, type Db } from "./db.ts";
import { failedTaskRoutes } from "./routes/failed-tasks.routes.ts";
import { subscriptionRoutes } from "./routes/subscriptions.routes.ts";

export const subscriptionService: ServiceDefinition<SubscriptionConfig, Db> = {
  name: "subscription",
  version: "0.1.0",
  loadConfig: loadSubscriptionConfig,
  createDb,
  routes: (app, { db, config, broker }) => {
    subscriptionRoutes(app, db, config);
    failedTaskRoutes(app, broker, config.PUBLIC_URL);
  },
  async startConsumers({ broker, db, config, logger }) {
    const consumers = await startSubscriptionConsumers(broker, db, config, logger);
    return async () => {
      await Promise.all(consumers.map((c) => c.stop()));
    };
  },
};
