import type { ServiceDefinition } from "@tidings/service-kit";
import { type IdentityConfig, loadIdentityConfig } from "./config.ts";
import { createDb, type Db } from "./db.ts";
import { identityRoutes } from "./routes/identities.routes.ts";

export const identityService: ServiceDefinition<IdentityConfig, Db> = {
  name: "identity",
  version: "0.1.0",
  loadConfig: loadIdentityConfig,
  createDb,
  routes: (app, { db, config }) => identityRoutes(app, db, config.PUBLIC_URL),
  // Nothing to consume yet; the worker runs the outbox relay that publishes identity events.
  startConsumers: async () => async () => undefined,
};
