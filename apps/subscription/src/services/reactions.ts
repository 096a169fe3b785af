import type { Broker, MessageContext } from "@tidings/amqp";
import { deterministicId, type Payload, type SubscriptionDeactivated } from "@tidings/contracts";
import { publish } from "@tidings/hooks";
import type { Db, Tx } from "../db.ts";
import { forgetIdentity } from "./forget.ts";
import { toSubscription } from "./subscriptions.ts";
import { removeTopicSubscriptions } from "./topics.ts";

/** `subscription.updated` (and its hooks) for each changed row, in the caller's transaction. */
const announceUpdated = (tx: Tx, rows: Parameters<typeof toSubscription>[0][], correlationId?: string) =>
  publish(
    tx,
    ...rows.map((row) => ({
      name: "subscription.updated" as const,
      payload: toSubscription(row),
      correlationId,
    })),
  );

/** Why an identity's subscriptions were stopped (`subscription.deactivated`'s reason and its details). */
export type Deactivation = Pick<SubscriptionDeactivated, "reason"> &
  Partial<Pick<SubscriptionDeactivated, "failure_count" | "optout_type">>;

/**
 * Deactivates every active subscription of an identity (it was deleted, opted out of everything, or keeps
 * failing), publishing `subscription.updated` and `subscription.deactivated` (with the reason) for each, and
 * their REST hooks, in one transaction. Idempotent: a second delivery finds nothing active. Returns how many it
 * stopped.
 */
export async function deactivateIdentity(
  db: Db,
  identity: string,
  why: Deactivation,
  correlationId?: string,
): Promise<number> {
  return db.$transaction(async (tx) => {
    const rows = await tx.subscription.updateManyAndReturn({
      where: { identity, active: true },
      data: { active: false },
    });
    await announceUpdated(tx, rows, correlationId);
    await publish(
      tx,
      ...rows.map((row) => ({
        name: "subscription.deactivated" as const,
        payload: { ...toSubscription(row), failure_count: null, optout_type: null, ...why },
        correlationId,
      })),
    );
    return rows.length;
  });
}

/**
 * An identity's language changed (`details.lang_code`, as Seed's hubs keep it): its active subscriptions
 * in another language move to it, each only if its message set has messages in that language, with
 * `subscription.updated`. Idempotent: a second delivery finds them already moved. Returns how many moved.
 */
export async function followIdentityLanguage(
  db: Db,
  identity: string,
  lang: string,
  correlationId?: string,
): Promise<number> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRawUnsafe<{ id: string }[]>(
      `UPDATE subscription s SET lang = $2, updated_at = now()
       WHERE s.identity = $1::uuid AND s.active AND s.lang <> $2
         AND EXISTS (SELECT 1 FROM message_copy m WHERE m.messageset = s.messageset AND m.lang = $2)
       RETURNING s.id`,
      identity,
      lang,
    );
    const moved = await tx.subscription.findMany({ where: { id: { in: rows.map((r) => r.id) } } });
    await announceUpdated(tx, moved, correlationId);
    return moved.length;
  });
}

/** message-sender's reason for an outbound whose identity has no address to send to. */
export const NO_ADDRESS = "no address";

/**
 * An outbound failed because its identity has no address: the subscription that sent it (found by the
 * outbound's id, derived from subscription, set and sequence) is marked `process_status` -1, as Seed did,
 * so nothing more is sent to it until the identity has an address again. Its position stays (the failed
 * id cannot be sent again; `POST .../resend` sends that message with a new one). A completed subscription
 * is left as it is. Idempotent. Returns whether one was marked.
 */
export async function markUnreachable(
  db: Db,
  outboundId: string,
  identity: string,
  correlationId?: string,
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const subs = await tx.subscription.findMany({ where: { identity, processStatus: 0, completed: false } });
    for (const sub of subs) {
      // Any message it was sent so far (catch-up may send several a slot) may be the failed one.
      const sentIt = Array.from({ length: sub.nextSequenceNumber - 1 }, (_, i) => i + 1).some(
        (sequence) => deterministicId("outbound", sub.id, sub.messagesetId, sequence) === outboundId,
      );
      if (!sentIt) {
        continue;
      }
      const [row] = await tx.subscription.updateManyAndReturn({
        where: { id: sub.id, processStatus: 0 },
        data: { processStatus: -1 },
      });
      if (row) {
        await announceUpdated(tx, [row], correlationId);
      }
      return !!row;
    }
    return false;
  });
}

/**
 * The identity has a usable address again (`identity.updated`): its subscriptions marked unreachable
 * (`process_status` -1) become ready, with `subscription.updated`. Idempotent.
 */
export async function markReachable(db: Db, identity: string, correlationId?: string): Promise<number> {
  return db.$transaction(async (tx) => {
    const rows = await tx.subscription.updateManyAndReturn({
      where: { identity, processStatus: -1, active: true },
      data: { processStatus: 0 },
    });
    await announceUpdated(tx, rows, correlationId);
    return rows.length;
  });
}

const STOPPING_OPTOUTS: ReadonlySet<string> = new Set(["stopall", "forget", "unsubscribe"]);

/**
 * An opt-out: a forget drops what this service holds of the person; stopall, forget and unsubscribe end
 * topic subscriptions (a topic unsubscribe only that topic's) and, unless about a topic, stop every
 * subscription. A stop (one address) leaves the others reachable.
 */
export async function reactToOptOut(
  db: Db,
  broker: Broker,
  optout: Payload<"optout.created">,
  ctx: MessageContext,
): Promise<void> {
  if (optout.optout_type === "forget") {
    await forgetIdentity(db, broker, optout);
  }
  if (STOPPING_OPTOUTS.has(optout.optout_type)) {
    const topic = optout.optout_type === "unsubscribe" ? optout.topic : null;
    await removeTopicSubscriptions(db, optout.identity, topic);
  }
  if (STOPPING_OPTOUTS.has(optout.optout_type) && !optout.topic) {
    const stopped = await deactivateIdentity(
      db,
      optout.identity,
      { reason: "optout", optout_type: optout.optout_type },
      ctx.messageId,
    );
    ctx.log.info(
      { identity: optout.identity, type: optout.optout_type, stopped },
      "opt-out stopped subscriptions",
    );
  }
}

/**
 * An updated identity: its subscriptions follow its language (when `followLanguage`), and unreachable ones
 * are ready again once it has a usable address.
 */
export async function reactToIdentityUpdate(
  db: Db,
  identity: Payload<"identity.updated">,
  ctx: MessageContext,
  followLanguage: boolean,
): Promise<void> {
  const lang = (identity.details as { lang_code?: unknown }).lang_code;
  if (followLanguage && typeof lang === "string" && lang.length <= 6) {
    const moved = await followIdentityLanguage(db, identity.id, lang, ctx.messageId);
    if (moved > 0) {
      ctx.log.info({ identity: identity.id, lang, moved }, "subscriptions moved to the identity's language");
    }
  }
  if (identity.addresses.some((a) => !a.optedout && !a.inactive)) {
    const ready = await markReachable(db, identity.id, ctx.messageId);
    if (ready > 0) {
      ctx.log.info({ identity: identity.id, ready }, "unreachable subscriptions ready again");
    }
  }
}

/** A deleted identity (or, with DEACTIVATE_ON_MAX_FAILURES, an unreachable one): its subscriptions stop. */
export async function stopIdentity(
  db: Db,
  identity: string,
  ctx: MessageContext,
  why: Deactivation,
): Promise<void> {
  const stopped = await deactivateIdentity(db, identity, why, ctx.messageId);
  ctx.log.info({ identity, stopped, reason: why.reason }, "subscriptions of the identity stopped");
}

/** A send that failed for want of an address marks its subscription unreachable. */
export async function reactToFailedOutbound(
  db: Db,
  failed: Payload<"outbound.failed">,
  ctx: MessageContext,
): Promise<void> {
  if (failed.reason === NO_ADDRESS && failed.to_identity) {
    if (await markUnreachable(db, failed.id, failed.to_identity, ctx.messageId)) {
      ctx.log.info({ identity: failed.to_identity }, "subscription has no address; marked");
    }
  }
}
