import type { MessageContext } from "./consumer.ts";
import type { SqlExecutor } from "./sql.ts";

/**
 * Records that this queue handled this message, inside the handler's transaction. False when it already
 * had: the handler then does nothing, so a redelivered message has no second effect.
 */
export async function isFirstDelivery(tx: SqlExecutor, ctx: Pick<MessageContext, "queue" | "messageId">) {
  const inserted = await tx.$executeRawUnsafe(
    "INSERT INTO tidings_processed_message (queue, message_id) VALUES ($1, $2::uuid) ON CONFLICT DO NOTHING",
    ctx.queue,
    ctx.messageId,
  );
  return inserted === 1;
}

/** Forgets processed-message records older than the retention (redeliveries come within minutes). */
export async function pruneProcessedMessages(db: SqlExecutor, olderThanMs: number): Promise<number> {
  return db.$executeRawUnsafe(
    "DELETE FROM tidings_processed_message WHERE processed_at < now() - make_interval(secs => $1)",
    olderThanMs / 1000,
  );
}
