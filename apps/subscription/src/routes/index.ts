import { registerHookRoutes } from "@tidings/hooks";
import type { RegisterRoutes } from "@tidings/service-kit";
import type { SubscriptionConfig } from "../config.ts";
import type { Db } from "../db.ts";
import { catchUpRoutes } from "./catch-up.routes.ts";
import { failedTaskRoutes } from "./failed-tasks.routes.ts";
import { subscriptionRoutes } from "./subscriptions.routes.ts";
import { topicRoutes } from "./topics.routes.ts";
import { unsubscribeRoutes } from "./unsubscribe.routes.ts";

/** The subscription API's routes; only the API role imports this module (see `routes` in ../service.ts). */
export const registerRoutes: RegisterRoutes<SubscriptionConfig, Db> = (app, { db, config, broker }) => {
  subscriptionRoutes(app, db, config);
  failedTaskRoutes(app, broker, config.PUBLIC_URL);
  catchUpRoutes(app, db, config);
  registerHookRoutes(app, { db, service: "subscription", publicUrl: config.PUBLIC_URL });
  topicRoutes(app, db, config.PUBLIC_URL);
  unsubscribeRoutes(app, db, config.UNSUBSCRIBE_SECRET);
};
