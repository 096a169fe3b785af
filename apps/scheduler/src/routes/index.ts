import { registerHookRoutes } from "@tidings/hooks";
import type { Api, Clock, ServiceDeps } from "@tidings/service-kit";
import type { SchedulerConfig } from "../config.ts";
import type { Db } from "../db.ts";
import type { EndpointGuard } from "../endpoints.ts";
import { failedTaskRoutes } from "./failed-tasks.routes.ts";
import { scheduleRoutes } from "./schedules.routes.ts";

/** The scheduler API's routes; only the API role imports this module (see `routes` in ../service.ts). */
export function registerRoutes(
  app: Api,
  { db, config }: ServiceDeps<SchedulerConfig, Db>,
  clock: Clock,
  guard: EndpointGuard,
): void {
  scheduleRoutes(app, db, clock, guard, config.PUBLIC_URL);
  failedTaskRoutes(app, db, config.PUBLIC_URL);
  registerHookRoutes(app, { db, service: "scheduler", publicUrl: config.PUBLIC_URL });
}
