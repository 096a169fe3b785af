import { isFirstDelivery, type MessageContext } from "@tidings/amqp";
import { isUuid, type OutboundDeliveryReport } from "@tidings/contracts";
import { publish } from "@tidings/hooks";
import type { Db, Tx } from "../db.ts";
import { addressNotFound, dataIncomplete, dataRequired } from "../errors.ts";
import { normaliseAddress } from "./addresses.ts";
import { type Actor, identitiesWithAddress } from "./identities.ts";

/**
 * Applies one delivery result to an identity's consecutive-failure counter, atomically: a delivery resets
 * it, a failure adds one. `identity.max_failures` is enqueued when the counter reaches the
 * threshold exactly, so once per crossing (Seed fired on every failure at or above it).
 * The result of an outbound (`outboundId`) counts once, however many ways it arrives (the broker's report and
 * message-sender's Seed hook to message_count); again, it changes nothing and answers the current count.
 * Returns the new count, or null when the identity does not exist.
 */
export async function recordDeliveryResult(
  tx: Tx,
  identityId: string,
  delivered: boolean,
  threshold: number,
  actor: Partial<Actor> = {},
  outboundId?: string,
): Promise<number | null> {
  if (outboundId !== undefined) {
    const first = await tx.$executeRaw`
      INSERT INTO counted_delivery (outbound_id) VALUES (${outboundId}::uuid) ON CONFLICT DO NOTHING`;
    if (first === 0) {
      const rows = await tx.$queryRaw<{ n: number }[]>`
        SELECT failed_message_count AS n FROM identity WHERE id = ${identityId}::uuid`;
      return rows[0]?.n ?? null;
    }
  }
  if (delivered) {
    const rows = await tx.$queryRaw<{ n: number }[]>`
      UPDATE identity SET failed_message_count = 0
      WHERE id = ${identityId}::uuid RETURNING failed_message_count AS n`;
    return rows[0]?.n ?? null;
  }
  const rows = await tx.$queryRaw<{ n: number }[]>`
    UPDATE identity SET failed_message_count = failed_message_count + 1
    WHERE id = ${identityId}::uuid RETURNING failed_message_count AS n`;
  const n = rows[0]?.n;
  if (n === undefined) {
    return null;
  }
  if (n === threshold) {
    await publish(tx, {
      name: "identity.max_failures",
      payload: { identity_id: identityId, failure_count: n },
      correlationId: actor.correlationId,
      actor: actor.userId,
    });
  }
  return n;
}

export interface MessageCountInput {
  data?: {
    identity?: string | null;
    to_addr?: string | null;
    delivered: boolean | "true" | "false";
    /** Set by message-sender's `outbound.delivery_report` hook: its result then counts once (a uuid). */
    outbound_id?: unknown;
  };
}

/** Seed's `POST /identities/message_count/` receiver (the Message Sender's delivery-report hook). */
export async function messageCount(
  db: Db,
  body: MessageCountInput,
  threshold: number,
  actor: Actor,
  defaultCountry?: string,
): Promise<{ identity: string; failed_message_count: number }> {
  const data = body.data;
  if (!data) {
    throw dataRequired();
  }
  if (!data.identity && !data.to_addr) {
    throw dataIncomplete();
  }
  const delivered = data.delivered === true || data.delivered === "true";
  return db.$transaction(async (tx) => {
    let identityId = data.identity ?? undefined;
    if (!identityId && data.to_addr) {
      const address = normaliseAddress("msisdn", data.to_addr, defaultCountry) ?? data.to_addr;
      identityId = (await identitiesWithAddress(tx, "msisdn", address))[0];
    }
    const outbound = isUuid(data.outbound_id) ? data.outbound_id : undefined;
    const n = identityId
      ? await recordDeliveryResult(tx, identityId, delivered, threshold, actor, outbound)
      : null;
    if (!identityId || n === null) {
      throw addressNotFound("No identity found for given address");
    }
    return { identity: identityId, failed_message_count: n };
  });
}

/**
 * A delivery report from message-sender (`outbound.delivery_report`), applied once per message: reports
 * without an identity, or for an identity that does not exist, are logged and dropped.
 */
export async function applyDeliveryReport(
  db: Db,
  report: OutboundDeliveryReport,
  ctx: MessageContext,
  threshold: number,
): Promise<void> {
  const identity = report.identity;
  if (!identity) {
    ctx.log.info({ outbound: report.outbound_id }, "delivery report without an identity; ignored");
    return;
  }
  await db.$transaction(async (tx) => {
    if (!(await isFirstDelivery(tx, ctx))) {
      return;
    }
    const n = await recordDeliveryResult(
      tx,
      identity,
      report.delivered,
      threshold,
      { correlationId: ctx.correlationId },
      report.outbound_id,
    );
    if (n === null) {
      ctx.log.info({ identity }, "delivery report for an unknown identity; ignored");
    }
  });
}
