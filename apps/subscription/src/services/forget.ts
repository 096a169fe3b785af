import type { Broker } from "@tidings/amqp";
import type { OptOutCreated } from "@tidings/contracts";
import { forgetHookDeliveries } from "@tidings/hooks";
import { forgetOwnDeadLetters, forgetPlatformRecords, forgottenNeedles } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import { forgetIdentityCopy } from "./identity-copy.ts";

/**
 * `optout.created` of type `forget` (its subscriptions are stopped as for stopall): the identity copy becomes
 * a tombstone without details or addresses (late identity events change nothing) and its topic subscriptions
 * go; hook deliveries and Idempotency-Key answers that carry the person (their id or an address) are deleted
 * (pending) or keep only their hook (delivered, failed); then their dead letters leave the service's dead-letter
 * queues. Idempotent. Run before the subscriptions are stopped, so the `subscription.updated` deliveries announcing
 * that are kept.
 */
export async function forgetIdentity(db: Db, broker: Broker, optout: OptOutCreated): Promise<void> {
  const needles = forgottenNeedles(optout);
  await forgetIdentityCopy(db, optout.identity);
  await db.$transaction(async (tx) => {
    await forgetHookDeliveries(tx, needles);
    await forgetPlatformRecords(tx, needles);
  });
  await forgetOwnDeadLetters(broker, "subscription", needles);
}
