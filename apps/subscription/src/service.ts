import { defineService } from "@tidings/service-kit";
import { loadSubscriptionConfig } from "./config.ts";
import { startConsumers } from "./consumers/index.ts";
import { createDb } from "./db.ts";

export const subscriptionService = defineService("subscription", {
  loadConfig: loadSubscriptionConfig,
  createDb,
  routes: () => import("./routes/index.ts"),
  startConsumers,
});
