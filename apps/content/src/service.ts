import type { ServiceDefinition } from "@tidings/service-kit";
import { type ContentConfig, loadContentConfig } from "./config.ts";
import { createDb, type Db } from "./db.ts";
import { contentRoutes } from "./routes/content.routes.ts";

export const contentService: ServiceDefinition<ContentConfig, Db> = {
  name: "content",
  version: "0.1.0",
  loadConfig: loadContentConfig,
  createDb,
  routes: (app, { db, config }) => contentRoutes(app, db, config.PUBLIC_URL),
  // Nothing to consume yet; the worker runs the outbox relay that publishes content events.
  startConsumers: async () => async () => undefined,
};
