import { registerHookRoutes } from "@tidings/hooks";
import type { Api } from "@tidings/service-kit";
import type { RouteDeps } from "./deps.ts";
import { failedTaskRoutes } from "./failed-tasks.routes.ts";
import { scheduleRoutes } from "./schedules.routes.ts";

/** The scheduler API's routes; only the API role imports this module (see `routes` in ../service.ts). */
export function registerRoutes(app: Api, deps: RouteDeps): void {
  scheduleRoutes(app, deps);
  failedTaskRoutes(app, deps);
  registerHookRoutes(app, { db: deps.db, service: "scheduler" });
}
