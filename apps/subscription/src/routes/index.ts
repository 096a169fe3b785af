import { registerHookRoutes } from "@tidings/hooks";
import type { Api } from "@tidings/service-kit";
import { catchUpRoutes } from "./catch-up.routes.ts";
import { contentProxyRoutes } from "./content-proxy.routes.ts";
import type { RouteDeps } from "./deps.ts";
import { failedTaskRoutes } from "./failed-tasks.routes.ts";
import { sendEstimateMetrics } from "./metrics.routes.ts";
import { subscriptionRoutes } from "./subscriptions.routes.ts";
import { topicRoutes } from "./topics.routes.ts";
import { unsubscribeRoutes } from "./unsubscribe.routes.ts";

/** The subscription API's routes; only the API role imports this module (see `routes` in ../service.ts). */
export async function registerRoutes(app: Api, deps: RouteDeps): Promise<void> {
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
}
