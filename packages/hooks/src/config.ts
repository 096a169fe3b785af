import type { SqlExecutor } from "@tidings/amqp";
import type { Logger, Stop } from "@tidings/service-kit";
import Type from "typebox";
import { startHookDispatcher } from "./dispatcher.ts";

/** The environment variables of a service that delivers REST hooks; spread into its `loadConfig` props. */
export const HookConfig = {
  /** Sent with every hook delivery as `Authorization: Token <HOOK_AUTH_TOKEN>` (Seed). */
  HOOK_AUTH_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  /** Attempts per hook delivery before it is recorded as failed. */
  HOOK_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100, default: 15 }),
  /** First hook retry wait; doubles each retry (with jitter), up to an hour. */
  HOOK_RETRY_BASE_MS: Type.Integer({ minimum: 1, maximum: 3_600_000, default: 1_000 }),
  /** How often the worker looks for due hook deliveries. */
  HOOK_POLL_INTERVAL_MS: Type.Integer({ minimum: 10, maximum: 60_000, default: 1_000 }),
};

export interface HookSettings {
  HOOK_AUTH_TOKEN?: string;
  HOOK_MAX_ATTEMPTS: number;
  HOOK_RETRY_BASE_MS: number;
  HOOK_POLL_INTERVAL_MS: number;
}

/** The hook dispatcher of a service's worker, configured from its `HookConfig` variables. */
export const startConfiguredHookDispatcher = (db: SqlExecutor, logger: Logger, config: HookSettings): Stop =>
  startHookDispatcher({
    db,
    logger,
    authToken: config.HOOK_AUTH_TOKEN,
    maxAttempts: config.HOOK_MAX_ATTEMPTS,
    baseDelayMs: config.HOOK_RETRY_BASE_MS,
    pollIntervalMs: config.HOOK_POLL_INTERVAL_MS,
  });
