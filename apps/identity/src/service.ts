import { registerHookRoutes } from "@tidings/hooks";
import type { ServiceDefinition } from "@tidings/service-kit";
import { type IdentityConfig, loadIdentityConfig } from "./config.ts";
import { startConsumers } from "./consumers.ts";
import { createDb, type Db } from "./db.ts";
import { consentRoutes } from "./routes/consent.routes.ts";
import { identityRoutes } from "./routes/identities.routes.ts";
import { verificationRoutes } from "./routes/verification.routes.ts";
import { HOOK_EVENTS } from "./services/identities.ts";

export const identityService: ServiceDefinition<IdentityConfig, Db> = {
  name: "identity",
  version: "0.1.0",
  loadConfig: loadIdentityConfig,
  createDb,
  routes: (app, { db, config }) => {
    identityRoutes(app, db, config);
    consentRoutes(app, db, config);
    verificationRoutes(app, db, config);
    registerHookRoutes(app, {
      db,
      events: HOOK_EVENTS,
      codePrefix: "IDENTITY",
      publicUrl: config.PUBLIC_URL,
    });
  },
  startConsumers,
};
