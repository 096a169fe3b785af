import { registerHookRoutes } from "@tidings/hooks";
import type { RegisterRoutes } from "@tidings/service-kit";
import type { IdentityConfig } from "../config.ts";
import type { Db } from "../db.ts";
import { consentRoutes } from "./consent.routes.ts";
import { identityRoutes } from "./identities.routes.ts";
import { verificationRoutes } from "./verification.routes.ts";

/** The identity API's routes; only the API role imports this module (see `routes` in ../service.ts). */
export const registerRoutes: RegisterRoutes<IdentityConfig, Db> = (app, deps) => {
  const { db } = deps;
  identityRoutes(app, deps);
  consentRoutes(app, deps);
  verificationRoutes(app, deps);
  registerHookRoutes(app, { db, service: "identity" });
};
