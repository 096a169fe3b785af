import type { Clock, ServiceDeps } from "@tidings/service-kit";
import type { SchedulerConfig } from "../config.ts";
import type { Db } from "../db.ts";
import type { EndpointGuard } from "../endpoints.ts";

/** What every route module of the scheduler receives: the service's deps, its clock and endpoint guard. */
export interface RouteDeps extends ServiceDeps<SchedulerConfig, Db> {
  clock: Clock;
  guard: EndpointGuard;
}
