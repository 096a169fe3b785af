import { enqueue } from "@tidings/amqp";
import type { Db } from "../db.ts";
import type { Subscription as SubscriptionRow } from "../generated/prisma/client.ts";
import { toSubscription } from "./subscriptions.ts";

/**
 * Deactivates every active subscription of an identity (it was deleted, opted out of everything, or keeps
 * failing), publishing `subscription.updated` for each, in one transaction. Idempotent: a second delivery
 * finds nothing active. Returns how many it stopped.
 */
export async function deactivateIdentity(db: Db, identity: string, correlationId?: string): Promise<number> {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRawUnsafe<SubscriptionRow[]>(
      `UPDATE subscription SET active = false, updated_at = now()
       WHERE identity = $1::uuid AND active
       RETURNING id, version, identity, messageset AS "messagesetId", next_sequence_number AS "nextSequenceNumber",
         initial_sequence_number AS "initialSequenceNumber", lang, active, completed, schedule AS "scheduleId",
         process_status AS "processStatus", metadata, last_slot AS "lastSlot", created_at AS "createdAt",
         created_by AS "createdBy", updated_at AS "updatedAt", updated_by AS "updatedBy"`,
      identity,
    );
    await enqueue(
      tx,
      ...rows.map((row) => ({
        name: "subscription.updated" as const,
        payload: toSubscription(row),
        correlationId,
      })),
    );
    return rows.length;
  });
}
