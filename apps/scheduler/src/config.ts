import { HookConfig } from "@tidings/hooks";
import { loadConfig } from "@tidings/service-kit";
import Type from "typebox";

export const loadSchedulerConfig = (env: Record<string, string | undefined> = process.env) =>
  loadConfig(
    "scheduler",
    {
      PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3004 }),
      /** How often the ticker looks for due slots. */
      TICK_INTERVAL_MS: Type.Integer({ minimum: 50, maximum: 60_000, default: 1_000 }),
      /** A slot the ticker reaches later than this after its time counts as missed (catch-up policies). */
      MISSED_AFTER_MS: Type.Integer({ minimum: 0, default: 60_000 }),
      /** catch_up "all": at most this many missed slots per trigger are fired after downtime... */
      CATCH_UP_MAX_SLOTS: Type.Integer({ minimum: 1, maximum: 10_000, default: 100 }),
      /** ...none of them older than this. */
      CATCH_UP_MAX_AGE_S: Type.Integer({ minimum: 1, default: 86_400 }),
      /** HTTP deliveries: comma-separated retry delays overriding the topology's (tests use short ones). */
      HTTP_RETRY_DELAYS_MS: Type.Optional(Type.String({ pattern: "^\\d+(,\\d+)*$" })),
      /**
       * The hosts a schedule saved by a non-admin token may POST to, comma-separated: `*` (any host name),
       * `api.example.org`, `*.example.org`, and IP addresses or CIDR ranges; non-public addresses only when
       * listed. Unset: non-admin tokens cannot set an endpoint.
       */
      SCHEDULER_HTTP_ALLOWED_HOSTS: Type.Optional(Type.String()),
      ...HookConfig,
    },
    env,
  );

export type SchedulerConfig = ReturnType<typeof loadSchedulerConfig>;

export interface CatchUpLimits {
  missedAfterMs: number;
  maxSlots: number;
  maxAgeMs: number;
}

export const catchUpLimits = (config: SchedulerConfig): CatchUpLimits => ({
  missedAfterMs: config.MISSED_AFTER_MS,
  maxSlots: config.CATCH_UP_MAX_SLOTS,
  maxAgeMs: config.CATCH_UP_MAX_AGE_S * 1000,
});

export const DEFAULT_CATCH_UP_LIMITS: CatchUpLimits = {
  missedAfterMs: 60_000,
  maxSlots: 100,
  maxAgeMs: 86_400_000,
};
