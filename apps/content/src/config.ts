import { loadConfig } from "@tidings/service-kit";
import Type from "typebox";

/** The MIME types binary content may have by default: audio for audio sets, images for text sets. */
export const DEFAULT_MEDIA_TYPES =
  "audio/mpeg,audio/ogg,audio/wav,audio/x-wav,audio/mp4,audio/aac,audio/amr,image/jpeg,image/png,image/gif,image/webp";

export const loadContentConfig = (env: Record<string, string | undefined> = process.env) =>
  loadConfig(
    "content",
    {
      PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3003 }),
      /** Where uploaded binary content is stored (created if missing). */
      CONTENT_MEDIA_DIR: Type.String({ minLength: 1, default: "./var/media" }),
      /** The largest upload, in bytes (default 10 MiB). */
      CONTENT_MEDIA_MAX_BYTES: Type.Integer({ minimum: 1, maximum: 1024 * 1024 * 1024, default: 10_485_760 }),
      /** The MIME types an upload may have, comma-separated; `type/*` allows a whole type. */
      CONTENT_MEDIA_TYPES: Type.String({ minLength: 1, default: DEFAULT_MEDIA_TYPES }),
    },
    env,
  );

export type ContentConfig = ReturnType<typeof loadContentConfig>;
