import { reactToIdentityUpdate, reactToOptOut, stopIdentity } from "../services/reactions.ts";
import type { WorkerDeps } from "./deps.ts";

/** `subscription.identity-events`: deletions, opt-outs, updates and unreachable identities. */
export const consumeIdentityEvents = ({ broker, db, config }: WorkerDeps) =>
  broker.consume(
    "subscription.identity-events",
    {
      "identity.deleted": ({ id }, ctx) => stopIdentity(db, id, ctx, { reason: "identity_deleted" }),
      "optout.created": (optout, ctx) => reactToOptOut(db, broker, optout, ctx),
      "identity.updated": (identity, ctx) =>
        reactToIdentityUpdate(db, identity, ctx, config.SUBSCRIPTION_FOLLOW_IDENTITY_LANG),
      "identity.max_failures": async ({ identity_id, failure_count }, ctx) => {
        if (config.DEACTIVATE_ON_MAX_FAILURES) {
          await stopIdentity(db, identity_id, ctx, { reason: "max_failures", failure_count });
        }
      },
    },
    { prefetch: config.AMQP_PREFETCH },
  );
