import { HookConfig } from "@tidings/hooks";
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
      ...HookConfig,
    },
    env,
  );

export type IdentityConfig = ReturnType<typeof loadIdentityConfig>;
