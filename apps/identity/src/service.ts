import type { ServiceDefinition } from "@tidings/service-kit";
import { type IdentityConfig, loadIdentityConfig } from "./config.ts";
import { startConsumers } from "./consumers/index.ts";
import { createDb, type Db } from "./db.ts";
import { countPublished } from "./metrics.ts";

export const identityService: ServiceDefinition<IdentityConfig, Db> = {
  name: "identity",
  version: "0.1.0",
  loadConfig: loadIdentityConfig,
  createDb,
  // Imported on demand so worker processes never load the API side.
  routes: async () => (await import("./routes/index.ts")).registerRoutes,
  startConsumers,
  onPublished: (_deps, messages) => countPublished(messages),
};
