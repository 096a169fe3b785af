import type { ServiceDefinition } from "@tidings/service-kit";
import { type ContentConfig, loadContentConfig } from "./config.ts";
import { createDb, type Db } from "./db.ts";

export const contentService: ServiceDefinition<ContentConfig, Db> = {
  name: "content",
  version: "0.1.0",
  loadConfig: loadContentConfig,
  createDb,
  // Imported on demand so worker processes never load the API side.
  routes: async () => (await import("./routes/index.ts")).registerRoutes,
  // Nothing to consume yet; the worker runs the outbox relay that publishes content events.
  startConsumers: async () => async () => undefined,
};
