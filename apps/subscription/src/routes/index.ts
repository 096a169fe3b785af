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
export const registerRoutes: RegisterRoutes<SubscriptionConfig, Db> = (app, deps) => {
  const { db } = deps;
  subscriptionRoutes(app, deps);
  failedTaskRoutes(app, deps);
  catchUpRoutes(app, deps);
  registerHookRoutes(app, { db, service: "subscription" });
  topicRoutes(app, deps);
  unsubscribeRoutes(app, deps);
};
