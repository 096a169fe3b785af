import { type Broker, enqueue, type OutboxMessage } from "@tidings/amqp";
import {
  deterministicId,
  type OutboundDeliveryReport,
  type Personalisation,
  renderTemplate,
  type TopicSendBatch,
} from "@tidings/contracts";
import type { Db } from "../db.ts";
import { fanOutKeyset } from "./fan-out.ts";
import { eligibleAddressesSql, RECIPIENTS_SQL } from "./topics.ts";
import { signUnsubscribeToken } from "./unsubscribe-token.ts";

/**
 * Hermes's `<<field>>` (spaces around the name allowed), read as the templates' `((field))`. One greedy class that
 * stops at the next `<` or `>`, trimmed after: linear in the text. `<<\s*([^<>()]+?)\s*>>` backtracked through
 * every split of a long run of spaces (a 20,000-character body: minutes of a blocked event loop per recipient).
 */
const HERMES_PLACEHOLDER = /<<([^<>()]+)>>/g;
const asTemplate = (text: string) =>
  text.replace(HERMES_PLACEHOLDER, (placeholder, name: string) =>
    name.trim() ? `((${name.trim()}))` : placeholder,
  );

/** The identity details a message can be merged with: top-level text, number and boolean fields. */
function mergeFields(details: Record<string, unknown>): Record<string, string | number | boolean> {
  const fields: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(details)) {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
      fields[key] = value;
    }
  }
  return fields;
}

export type MergeResult = { ok: true; subject: string | null; body: string } | { ok: false; missing: string };

/**
 * Mail-merges a topic message for one recipient: `<<field>>` and `((field))` are filled from the publish's
 * personalisation, then from the recipient's identity details. A field neither has is reported (the
 * first one), never sent as a raw placeholder.
 */
export function mailMerge(
  text: { subject: string | null; body: string },
  personalisation: Personalisation,
  details: Record<string, unknown>,
): MergeResult {
  const rendered = renderTemplate(
    {
      type: "text",
      subject: text.subject === null ? null : asTemplate(text.subject),
      body: asTemplate(text.body),
    },
    { ...mergeFields(details), ...personalisation },
  );
  return rendered.ok ? rendered : { ok: false, missing: rendered.missing[0] as string };
}

export interface TopicSendOptions {
  unsubscribeSecret: string;
  unsubscribeTtlDays: number;
  /** Where unsubscribe links point: the subscription API's public base URL. */
  publicUrl: string;
  /** Message-sender channel per address type (TOPIC_CHANNELS). */
  channels: ReadonlyMap<string, string>;
  correlationId?: string;
}

/**
 * topic.fan-out: pages through the publish's recipients (keyset on identity) and publishes them as
 * `topic.send-batch` commands for competing consumers, each with an id derived from its identities, so a
 * redelivered fan-out republishes the same commands. Returns how many identities it handed on, and records that
 * number on the publish (`handed_on`) when it is done.
 */
export async function fanOutPublish(
  db: Db,
  broker: Broker,
  publishId: string,
  sizes: { pageSize: number; sendBatchSize: number },
  correlationId?: string,
): Promise<number> {
  const publish = await db.topicPublish.findUniqueOrThrow({ where: { publishId } });
  const handedOn = await fanOutKeyset(
    "topic",
    async (after, limit) =>
      (
        await db.$queryRawUnsafe<{ id: string }[]>(
          `SELECT s.identity::text AS id ${RECIPIENTS_SQL} AND s.identity > $3::uuid ORDER BY s.identity LIMIT $4`,
          publish.topic,
          publish.channels,
          after,
          limit,
        )
      ).map((r) => r.id),
    (identities) =>
      broker.publish(
        "topic.send-batch",
        { publish_id: publishId, identities },
        { messageId: deterministicId("topic-send", publishId, ...identities), correlationId },
      ),
    sizes,
  );
  // Who unsubscribed (or subscribed) between the publish and its fan-out makes this differ from `recipients`: the
  // publish's progress is measured against what the fan-out handed on.
  await db.topicPublish.update({ where: { publishId }, data: { handedOn } });
  return handedOn;
}

interface RecipientRow {
  identity: string;
  details: Record<string, unknown>;
  type: string;
  address: string;
}

interface Recipient {
  identity: string;
  channel: string;
  status: "queued" | "failed" | "skipped";
  reason: string | null;
  outbound_id: string;
}

export interface TopicBatchOutcome {
  queued: number;
  failed: number;
  skipped: number;
}

/**
 * topic.send-batch, in one transaction: for each identity still subscribed, each eligible channel (its
 * default verified address on it, else the first): mail-merge the message, add the per-recipient
 * unsubscribe link, and write an `outbound.send` whose id is derived from (publish_id, identity, channel)
 * to the outbox, with the recipient's record. A recipient whose record exists already (a redelivered
 * command, an overlapping batch) gets nothing again. A field missing for a recipient records them as
 * `failed` with `missing_field:<name>`; an identity no longer eligible is recorded as `skipped`.
 */
export async function sendTopicBatch(
  db: Db,
  command: TopicSendBatch,
  options: TopicSendOptions,
): Promise<TopicBatchOutcome> {
  const publish = await db.topicPublish.findUniqueOrThrow({ where: { publishId: command.publish_id } });
  const personalisation = publish.personalisation as Personalisation;
  const expires = Math.floor(Date.now() / 1000) + options.unsubscribeTtlDays * 86_400;
  const base = options.publicUrl.replace(/\/+$/, "");
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRawUnsafe<RecipientRow[]>(
      `SELECT s.identity::text AS identity, i.details, e.type, e.address
       FROM topic_subscription s JOIN identity_copy i ON i.id = s.identity AND NOT i.deleted
       CROSS JOIN LATERAL (
         SELECT DISTINCT ON (type) type, address FROM (${eligibleAddressesSql("$2")}) x
         ORDER BY type, is_default DESC
       ) e
       WHERE s.topic = $1 AND s.identity = ANY($3::uuid[])
       ORDER BY s.identity, e.type`,
      publish.topic,
      publish.channels,
      command.identities,
    );
    const recipients: Recipient[] = [];
    const sends = new Map<string, OutboxMessage<"outbound.send">>();
    const eligible = new Set(rows.map((r) => r.identity));
    for (const identity of command.identities) {
      if (!eligible.has(identity)) {
        recipients.push({
          identity,
          channel: "-",
          status: "skipped",
          reason: "not_eligible",
          outbound_id: deterministicId("topic", publish.publishId, identity, "-"),
        });
      }
    }
    for (const row of rows) {
      const outboundId = deterministicId("topic", publish.publishId, row.identity, row.type);
      const merged = mailMerge(
        { subject: publish.subject, body: publish.content ?? "" },
        personalisation,
        row.details,
      );
      if (!merged.ok) {
        recipients.push({
          identity: row.identity,
          channel: row.type,
          status: "failed",
          reason: `missing_field:${merged.missing}`,
          outbound_id: outboundId,
        });
        continue;
      }
      recipients.push({
        identity: row.identity,
        channel: row.type,
        status: "queued",
        reason: null,
        outbound_id: outboundId,
      });
      const token = signUnsubscribeToken(options.unsubscribeSecret, {
        identity: row.identity,
        topic: publish.topic,
        channel: row.type,
        expires,
      });
      const link = `${base}/unsubscribe/${token}`;
      const email = row.type === "email";
      sends.set(outboundId, {
        name: "outbound.send",
        messageId: outboundId,
        correlationId: options.correlationId,
        payload: {
          id: outboundId,
          to_identity: row.identity,
          to_addr: row.address,
          channel: options.channels.get(row.type) ?? null,
          // Broadcasts go in the message sender's bulk lane, behind one-off and transactional sends.
          priority: "bulk",
          content: `${merged.body}\n\nUnsubscribe: ${link}`,
          metadata: {
            topic: publish.topic,
            publish_id: publish.publishId,
            ...(email && merged.subject ? { subject: merged.subject } : {}),
            ...(email
              ? {
                  headers: {
                    "List-Unsubscribe": `<${link}>`,
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                  },
                }
              : {}),
          },
        },
      });
    }
    const inserted = await tx.$queryRawUnsafe<{ outbound_id: string; status: string }[]>(
      `INSERT INTO topic_recipient (publish_id, identity, channel, status, reason, outbound_id)
       SELECT $1, r.identity, r.channel, r.status, r.reason, r.outbound_id
       FROM jsonb_to_recordset($2::jsonb) AS r(identity uuid, channel text, status text, reason text, outbound_id uuid)
       ON CONFLICT DO NOTHING
       RETURNING outbound_id::text, status`,
      publish.publishId,
      JSON.stringify(recipients),
    );
    const outcome: TopicBatchOutcome = { queued: 0, failed: 0, skipped: 0 };
    const toSend: OutboxMessage[] = [];
    for (const r of inserted) {
      outcome[r.status as keyof TopicBatchOutcome] += 1;
      const send = sends.get(r.outbound_id);
      if (send) {
        toSend.push(send);
      }
    }
    await enqueue(tx, ...toSend);
    return outcome;
  });
}

/** outbound.delivery_report for a topic message: its recipient record moves from queued to its final status. */
export async function recordTopicDelivery(db: Db, report: OutboundDeliveryReport): Promise<boolean> {
  const { count } = await db.topicRecipient.updateMany({
    where: { outboundId: report.outbound_id, status: "queued" },
    data: {
      status: report.delivered ? "delivered" : "undelivered",
      reason: report.reason,
      updatedAt: new Date(),
    },
  });
  return count === 1;
}
