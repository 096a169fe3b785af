import { randomBytes } from "node:crypto";
import { ConfigError } from "@tidings/service-kit";
import Type from "typebox";

/** The subscription service's settings for topics (merged into its config schema). */
export const TopicsConfig = {
  /**
   * Signs unsubscribe links (HMAC-SHA256). Required when NODE_ENV is production; elsewhere a random one is
   * made per process (links then only work while that process runs: set it when the API and the worker
   * are separate processes; `pnpm start` writes one to .env).
   */
  UNSUBSCRIBE_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  /** Public base URL of this API for unsubscribe links (default: PUBLIC_URL, else http://localhost:PORT). */
  UNSUBSCRIBE_BASE_URL: Type.Optional(Type.String({ pattern: "^https?://" })),
  /** How long an unsubscribe link works, in days. */
  UNSUBSCRIBE_TTL_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 90 }),
  /** Message-sender channel per address type for topic messages, e.g. `email=SMTP,msisdn=TWILIO`; others use its default channel. */
  TOPIC_CHANNELS: Type.String({
    default: "",
    pattern: "^([a-z0-9_]+=[A-Za-z0-9_-]+(,[a-z0-9_]+=[A-Za-z0-9_-]+)*)?$",
  }),
  NODE_ENV: Type.String({ default: "development" }),
};

/** Fails start-up in production without UNSUBSCRIBE_SECRET; elsewhere fills in a random one. */
export function withUnsubscribeSecret<C extends { UNSUBSCRIBE_SECRET?: string; NODE_ENV: string }>(
  config: C,
): C & { UNSUBSCRIBE_SECRET: string } {
  if (config.UNSUBSCRIBE_SECRET) {
    return config as C & { UNSUBSCRIBE_SECRET: string };
  }
  if (config.NODE_ENV === "production") {
    throw new ConfigError(
      "subscription: invalid configuration: UNSUBSCRIBE_SECRET (at least 32 characters) is required in production",
    );
  }
  return { ...config, UNSUBSCRIBE_SECRET: randomBytes(32).toString("base64url") };
}

/** TOPIC_CHANNELS as a map from address type to message-sender channel. */
export const topicChannels = (setting: string): ReadonlyMap<string, string> =>
  new Map(
    setting
      .split(",")
      .filter(Boolean)
      .map((pair) => pair.split("=") as [string, string]),
  );
