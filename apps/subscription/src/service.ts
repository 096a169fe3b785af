import { registerHookRoutes, startConfiguredHookDispatcher } from "@tidings/hooks";
import type { ServiceDefinition } from "@tidings/service-kit";
import { loadSubscriptionConfig, type SubscriptionConfig } from "./config.ts";
import { startSubscriptionConsumers } from "./consumers/index.ts";
import { createDb, type Db } from "./db.ts";
import { catchUpRoutes } from "./routes/catch-up.routes.ts";
import { failedTaskRoutes } from "./routes/failed-tasks.routes.ts";
import { subscriptionRoutes } from "./routes/subscriptions.routes.ts";
import { topicRoutes } from "./routes/topics.routes.ts";
import { unsubscribeRoutes } from "./routes/unsubscribe.routes.ts";
import { HOOK_EVENTS } from "./services/events.ts";

export const subscriptionService: ServiceDefinition<SubscriptionConfig, Db> = {
  name: "subscription",
  version: "0.1.0",
  loadConfig: loadSubscriptionConfig,
  createDb,
  routes: (app, { db, config, broker }) => {
    subscriptionRoutes(app, db, config);
    failedTaskRoutes(app, broker, config.PUBLIC_URL);
    catchUpRoutes(app, db, config);
    registerHookRoutes(app, {
      db,
      events: HOOK_EVENTS,
      codePrefix: "SUBSCRIPTION",
      publicUrl: config.PUBLIC_URL,
    });
    topicRoutes(app, db, config.PUBLIC_URL);
    unsubscribeRoutes(app, db, config.UNSUBSCRIBE_SECRET);
  },
  async startConsumers({ broker, db, config, logger }) {
    const consumers = await startSubscriptionConsumers(broker, db, config, logger);
    const stopHooks = startConfiguredHookDispatcher(db, logger, config);
    return async () => {
      await stopHooks();
      await Promise.all(consumers.map((c) => c.stop()));
    };
  },
};
