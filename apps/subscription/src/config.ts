import { HookConfig } from "@tidings/hooks";
import { loadConfig } from "@tidings/service-kit";
import Type from "typebox";
import { TopicsConfig, withUnsubscribeSecret } from "./services/topics-config.ts";

export const loadSubscriptionConfig = (env: Record<string, string | undefined> = process.env) =>
  withUnsubscribeSecret(
    loadConfig(
      "subscription",
      {
        PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3002 }),
        /** Subscriptions read per keyset page when a schedule fires. */
        FAN_OUT_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 10_000, default: 1_000 }),
        /** Subscriptions sent per `subscription.send-next` command (one transaction each). */
        SEND_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 1_000, default: 100 }),
        /** Whether `identity.max_failures` (consecutive failed sends) stops the identity's subscriptions. */
        DEACTIVATE_ON_MAX_FAILURES: Type.Boolean({ default: true }),
        /** Message set ids (comma-separated) whose subscriptions advance without sending (Seed's DRY_RUN_MESSAGESETS). */
        DRY_RUN_MESSAGESETS: Type.String({ default: "", pattern: "^(\\d+(,\\d+)*)?$" }),
        /** Language used when a message is missing in the subscription's own language (empty: none). */
        FALLBACK_LANGUAGE: Type.String({ default: "", maxLength: 6 }),
        /** Whether an identity's new language (`details.lang_code`) moves its active subscriptions to it. */
        SUBSCRIPTION_FOLLOW_IDENTITY_LANG: Type.Boolean({ default: true }),
        /** The content API, which serves Seed's content paths forwarded from this API (`/messageset/`, ...). */
        CONTENT_URL: Type.String({ pattern: "^https?://", default: "http://127.0.0.1:3003" }),
        /** A content token for those forwarded calls (secret); unset: ADMIN_TOKEN. */
        CONTENT_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
        /** The scheduler API, where Seed's legacy per-subscription send disables the old schedule that called it. */
        SCHEDULER_URL: Type.String({ pattern: "^https?://", default: "http://127.0.0.1:3004" }),
        /** A scheduler token for that (secret); unset: ADMIN_TOKEN. */
        SCHEDULER_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
        ...HookConfig,
        ...TopicsConfig,
      },
      env,
    ),
  );

export type SubscriptionConfig = ReturnType<typeof loadSubscriptionConfig>;

export const dryRunSets = (config: SubscriptionConfig): ReadonlySet<number> =>
  new Set(config.DRY_RUN_MESSAGESETS.split(",").filter(Boolean).map(Number));
