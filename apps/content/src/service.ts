import { defineService } from "@tidings/service-kit";
import { loadContentConfig } from "./config.ts";
import { createDb } from "./db.ts";

export const contentService = defineService("content", {
  loadConfig: loadContentConfig,
  createDb,
  routes: () => import("./routes/index.ts"),
  // Nothing to consume yet; the worker runs the outbox relay that publishes content events.
  startConsumers: async () => async () => undefined,
});
