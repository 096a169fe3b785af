import { randomUUID } from "node:crypto";
import { enqueue } from "@tidings/amqp";
import type { Db } from "../db.ts";
import { messageMissing, seedSubscriptionNotFound } from "../errors.ts";
import { channelFor, channelPreferences, outboundFor } from "./outbound.ts";
import { policiesFor } from "./position.ts";

/**
 * Seed's resend: the subscription's last message goes out again as a new outbound, without advancing, recorded
 * as a ResendRequest (outbound and message) in the same transaction. Each request is its own send, in the normal
 * lane, within the set's quiet hours. Whatever its state: an active or inactive one resends
 * next_sequence_number - 1 (the first before any was sent); a completed one stays at its last message, so that is
 * next_sequence_number itself. The message sender still applies consent (an opted-out address is not sent to).
 */
export async function resendLast(
  db: Db,
  id: string,
  options: { fallbackLanguage: string; correlationId?: string },
): Promise<{ outbound: string; sequence_number: number }> {
  const sub = await db.subscription.findUnique({ where: { id } });
  if (!sub) {
    throw seedSubscriptionNotFound(id);
  }
  const sequence = sub.completed ? sub.nextSequenceNumber : Math.max(1, sub.nextSequenceNumber - 1);
  const languages = [sub.lang, options.fallbackLanguage].filter(Boolean);
  const candidates = await db.messageCopy.findMany({
    where: { messagesetId: sub.messagesetId, sequenceNumber: sequence, lang: { in: languages } },
  });
  const message = candidates.find((m) => m.lang === sub.lang) ?? candidates[0];
  if (!message) {
    throw messageMissing(sequence, sub.lang, sub.messagesetId);
  }
  const set = await db.messageSetCopy.findUnique({ where: { id: sub.messagesetId } });
  const policy = (await policiesFor(db, [sub.messagesetId])).get(sub.messagesetId);
  const preference = (await channelPreferences(db, [sub.identity])).get(sub.identity);
  const outbound = randomUUID();
  await db.$transaction(async (tx) => {
    await tx.resendRequest.create({ data: { outbound, subscription: sub.id, message: message.id } });
    await enqueue(tx, {
      name: "outbound.send",
      messageId: outbound,
      correlationId: options.correlationId,
      payload: outboundFor({
        id: outbound,
        identity: sub.identity,
        subscription: sub.id,
        sequenceNumber: sequence,
        contentType: set?.contentType ?? "text",
        channel: channelFor(preference, set?.contentType ?? "text", set?.channel ?? null),
        message: {
          text: message.textContent,
          metadata: message.metadata as Record<string, unknown>,
          binaryUrl: message.binaryContentUrl,
        },
        resend: true,
        sendingWindow: policy?.sendingWindow,
        subscriptionMetadata: sub.metadata as Record<string, unknown> | null,
      }),
    });
  });
  return { outbound, sequence_number: sequence };
}
