import { enqueue } from "@tidings/amqp";
import type { Db } from "../db.ts";
import { toSubscription } from "./subscriptions.ts";

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
