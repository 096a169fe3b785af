import { registerHookRoutes } from "@tidings/hooks";
import type { RegisterRoutes } from "@tidings/service-kit";
import type { IdentityConfig } from "../config.ts";
import type { Db } from "../db.ts";
import { HOOK_EVENTS } from "../services/identities.ts";
import { consentRoutes } from "./consent.routes.ts";
import { identityRoutes } from "./identities.routes.ts";
import { verificationRoutes } from "./verification.routes.ts";

/** The identity API's routes; only the API role imports this module (see `routes` in ../service.ts). */
export const registerRoutes: RegisterRoutes<IdentityConfig, Db> = (app, { db, config }) => {
  identityRoutes(app, db, config);
  consentRoutes(app, db, config);
  verificationRoutes(app, db, config);
  registerHookRoutes(app, {
    db,
    events: HOOK_EVENTS,
    codePrefix: "IDENTITY",
  });
};
