import { defineService } from "@tidings/service-kit";
import { loadIdentityConfig } from "./config.ts";
import { startConsumers } from "./consumers/index.ts";
import { createDb } from "./db.ts";
import { countPublished } from "./metrics.ts";

export const identityService = defineService("identity", {
  loadConfig: loadIdentityConfig,
  createDb,
  routes: () => import("./routes/index.ts"),
  startConsumers,
  onPublished: (_deps, messages) => countPublished(messages),
});
