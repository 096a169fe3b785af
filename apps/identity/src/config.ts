import { loadConfig } from "@tidings/service-kit";
import Type from "typebox";

export const loadIdentityConfig = (env: Record<string, string | undefined> = process.env) =>
  loadConfig(
    "identity",
    {
      PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3001 }),
      /** Consecutive failed sends at which `identity.max_failures` is published (once per crossing). */
      MAX_CONSECUTIVE_SEND_FAILURES: Type.Integer({ minimum: 1, maximum: 1000, default: 5 }),
      /** ISO 3166 country for msisdns given without a leading + (e.g. `ZA`). Unset: E.164 is required. */
      DEFAULT_COUNTRY: Type.Optional(Type.String({ pattern: "^[A-Z]{2}$" })),
      /** How long a contact-verification code is valid. */
      VERIFICATION_CODE_TTL_SECONDS: Type.Integer({ minimum: 10, maximum: 86_400, default: 600 }),
      /** Wrong codes allowed per issued code before confirmation answers 429. */
      VERIFICATION_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100, default: 5 }),
      /** Codes that may be issued for one address per hour before issuing answers 429. */
      VERIFICATION_MAX_CODES_PER_HOUR: Type.Integer({ minimum: 1, maximum: 1000, default: 5 }),
      /** Sent with every hook delivery as `Authorization: Token <HOOK_AUTH_TOKEN>` (Seed). */
      HOOK_AUTH_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
      /** Attempts per hook delivery before it is recorded as failed. */
      HOOK_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100, default: 15 }),
      /** First hook retry wait; doubles each retry (with jitter), up to an hour. */
      HOOK_RETRY_BASE_MS: Type.Integer({ minimum: 1, maximum: 3_600_000, default: 1_000 }),
      /** How often the worker looks for due hook deliveries. */
      HOOK_POLL_INTERVAL_MS: Type.Integer({ minimum: 10, maximum: 60_000, default: 1_000 }),
    },
    env,
  );

export type IdentityConfig = ReturnType<typeof loadIdentityConfig>;
