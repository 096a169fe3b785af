import {
  type Clock,
  defineService,
  type Lookup,
  type ServiceDefinition,
  systemClock,
  UrlPolicy,
} from "@tidings/service-kit";
import { loadSchedulerConfig, type SchedulerConfig } from "./config.ts";
import { startConsumers } from "./consumers/index.ts";
import { createDb, type Db } from "./db.ts";
import type { EndpointGuard } from "./endpoints.ts";
import { registerSchedulerGauges } from "./metrics.ts";

/** The scheduler; `clock` and the name resolution of HTTP endpoints are replaceable so tests control them. */
export function schedulerService(
  clock: Clock = systemClock,
  options: { lookup?: Lookup } = {},
): ServiceDefinition<SchedulerConfig, Db> {
  const guardOf = (config: SchedulerConfig): EndpointGuard => ({
    policy: new UrlPolicy(config.SCHEDULER_HTTP_ALLOWED_HOSTS),
    lookup: options.lookup,
  });
  return defineService("scheduler", {
    loadConfig: loadSchedulerConfig,
    createDb,
    routes: async () => {
      const { registerRoutes } = await import("./routes/index.ts");
      return (app, deps) => registerRoutes(app, { ...deps, clock, guard: guardOf(deps.config) });
    },
    startConsumers: (deps) => startConsumers({ ...deps, clock, guard: guardOf(deps.config) }),
    workerMetrics: (deps, registry) => registerSchedulerGauges(registry, deps.db, clock),
  });
}
