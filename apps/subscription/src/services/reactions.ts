import { deterministicId } from "@tidings/contracts";
import { publish } from "@tidings/hooks";
import type { Db, Tx } from "../db.ts";
import { toSubscription } from "./subscriptions.ts";

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

/**
 * Deactivates every active subscription of an identity (it was deleted, opted out of everything, or keeps
 * failing), publishing `subscription.updated` for each, in one transaction. Idempotent: a second delivery
 * finds nothing active. Returns how many it stopped.
 */
export async function deactivateIdentity(db: Db, identity: string, correlationId?: string): Promise<number> {
  return db.$transaction(async (tx) => {
    const rows = await tx.subscription.updateManyAndReturn({
      where: { identity, active: true },
      data: { active: false },
    });
    await announceUpdated(tx, rows, correlationId);
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
