import type { ServiceDefinition } from "@tidings/service-kit";
import { type ContentConfig, loadContentConfig } from "./config.ts";
import { createDb, type Db } from "./db.ts";
import { LocalDiskStorage } from "./media/storage.ts";
import { contentRoutes } from "./routes/content.routes.ts";

/** A stored file's public URL: under PUBLIC_URL when it is set, else a path on this API. */
export const mediaUrlFor = (publicUrl: string | undefined) => (key: string) =>
  `${(publicUrl ?? "").replace(/\/+$/, "")}/media/${key}`;

export const contentService: ServiceDefinition<ContentConfig, Db> = {
  name: "content",
  version: "0.1.0",
  loadConfig: loadContentConfig,
  createDb,
  routes: async (app, { db, config }) =>
    contentRoutes(
      app,
      {
        db,
        mediaUrl: mediaUrlFor(config.PUBLIC_URL),
        storage: await LocalDiskStorage.open(config.CONTENT_MEDIA_DIR),
        maxBytes: config.CONTENT_MEDIA_MAX_BYTES,
        mimeTypes: config.CONTENT_MEDIA_TYPES.split(",")
          .map((t) => t.trim().toLowerCase())
          .filter(Boolean),
      },
      config.PUBLIC_URL,
    ),
  // Nothing to consume yet; the worker runs the outbox relay that publishes content events.
  startConsumers: async () => async () => undefined,
};
