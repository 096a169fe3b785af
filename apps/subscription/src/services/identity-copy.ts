import type { IdentityChanged } from "@tidings/contracts";
import type { Db } from "../db.ts";

/**
 * The local copy of identities that topic publishes are sent from (addresses with their verified /
 * opted-out / inactive flags) and mail-merged from (details), kept by identity.* events. An event older
 * than the copy (by the identity's updated_at) changes nothing, nor does any event for a deleted identity,
 * so redelivered or reordered events never roll the copy back. False when the event was ignored.
 */
export async function copyIdentity(db: Db, identity: IdentityChanged): Promise<boolean> {
  const changed = await db.$executeRaw`
    INSERT INTO identity_copy (id, details, addresses, deleted, identity_updated_at)
    VALUES (${identity.id}::uuid, ${JSON.stringify(identity.details)}::jsonb,
            ${JSON.stringify(identity.addresses)}::jsonb, false, ${identity.updated_at}::timestamptz)
    ON CONFLICT (id) DO UPDATE SET
      details = EXCLUDED.details,
      addresses = EXCLUDED.addresses,
      identity_updated_at = EXCLUDED.identity_updated_at
    WHERE NOT identity_copy.deleted AND identity_copy.identity_updated_at <= EXCLUDED.identity_updated_at`;
  return changed === 1;
}

/**
 * identity.deleted: the copy becomes a tombstone without details or addresses (so a late created/updated
 * stays ignored) and the identity's topic subscriptions go.
 */
export async function forgetIdentityCopy(db: Db, id: string): Promise<void> {
  await db.$transaction([
    db.$executeRaw`
      INSERT INTO identity_copy (id, details, addresses, deleted, identity_updated_at)
      VALUES (${id}::uuid, '{}'::jsonb, '[]'::jsonb, true, now())
      ON CONFLICT (id) DO UPDATE SET details = '{}'::jsonb, addresses = '[]'::jsonb, deleted = true`,
    db.topicSubscription.deleteMany({ where: { identity: id } }),
  ]);
}
