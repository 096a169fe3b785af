import type { RegisterRoutes } from "@tidings/service-kit";
import type { ContentConfig } from "../config.ts";
import type { Db } from "../db.ts";
import { LocalDiskStorage } from "../media/storage.ts";
import { contentRoutes } from "./content.routes.ts";
import type { RouteDeps } from "./deps.ts";
import { extraRoutes } from "./extra.routes.ts";
import { mediaRoutes } from "./media.routes.ts";

/** A stored file's public URL: under PUBLIC_URL when it is set, else a path on this API. */
export const mediaUrlFor = (publicUrl: string | undefined) => (key: string) =>
  `${(publicUrl ?? "").replace(/\/+$/, "")}/media/${key}`;

/** The content API's routes; only the API role imports this module (see `routes` in ../service.ts). */
export const registerRoutes: RegisterRoutes<ContentConfig, Db> = async (app, deps) => {
  const { config } = deps;
  const routeDeps: RouteDeps = {
    ...deps,
    mediaUrl: mediaUrlFor(config.PUBLIC_URL),
    storage: await LocalDiskStorage.open(config.CONTENT_MEDIA_DIR),
    maxBytes: config.CONTENT_MEDIA_MAX_BYTES,
    mimeTypes: config.CONTENT_MEDIA_TYPES.split(",")
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  };
  contentRoutes(app, routeDeps);
  extraRoutes(app, routeDeps);
  await mediaRoutes(app, routeDeps);
};
