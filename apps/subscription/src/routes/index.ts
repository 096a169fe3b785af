import { registerHookRoutes } from "@tidings/hooks";
import type { RegisterRoutes } from "@tidings/service-kit";
import type { SubscriptionConfig } from "../config.ts";
import type { Db } from "../db.ts";
import { catchUpRoutes } from "./catch-up.routes.ts";
import { contentProxyRoutes } from "./content-proxy.routes.ts";
import { failedTaskRoutes } from "./failed-tasks.routes.ts";
import { sendEstimateMetrics } from "./metrics.routes.ts";
import { subscriptionRoutes } from "./subscriptions.routes.ts";
import { topicRoutes } from "./topics.routes.ts";
import { unsubscribeRoutes } from "./unsubscribe.routes.ts";

/** The subscription API's routes; only the API role imports this module (see `routes` in ../service.ts). */
export const registerRoutes: RegisterRoutes<SubscriptionConfig, Db> = async (app, deps) => {
  const { db, config } = deps;
  subscriptionRoutes(app, deps);
  failedTaskRoutes(app, deps);
  catchUpRoutes(app, deps);
  sendEstimateMetrics(app, deps);
  registerHookRoutes(app, { db, service: "subscription" });
  topicRoutes(app, deps);
  unsubscribeRoutes(app, deps);
  await contentProxyRoutes(app, {
    contentUrl: config.CONTENT_URL,
    contentToken: config.CONTENT_TOKEN ?? config.ADMIN_TOKEN,
  });
};
