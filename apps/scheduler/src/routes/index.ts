import { registerHookRoutes } from "@tidings/hooks";
import type { Api, Clock, ServiceDeps } from "@tidings/service-kit";
import type { SchedulerConfig } from "../config.ts";
import type { Db } from "../db.ts";
import type { EndpointGuard } from "../endpoints.ts";
import { HOOK_EVENTS } from "../services/schedules.ts";
import { failedTaskRoutes } from "./failed-tasks.routes.ts";
import { scheduleRoutes } from "./schedules.routes.ts";

/** The scheduler API's routes; only the API role imports this module (see `routes` in ../service.ts). */
export function registerRoutes(
  app: Api,
  { db }: ServiceDeps<SchedulerConfig, Db>,
  clock: Clock,
  guard: EndpointGuard,
): void {
  scheduleRoutes(app, db, clock, guard);
  failedTaskRoutes(app, db);
  registerHookRoutes(app, {
    db,
    events: HOOK_EVENTS,
    codePrefix: "SCHEDULER",
  });
}
