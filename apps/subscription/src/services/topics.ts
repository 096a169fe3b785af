import { enqueue } from "@tidings/amqp";
import {
  deterministicId,
  type IdentityTopic,
  type PreviewTopicBody,
  type PublishAccepted,
  type PublishRecord,
  type PublishTopicBody,
  type SubscribeTopicBody,
  type TopicSubscriber,
  toSeedTime,
} from "@tidings/contracts";
import { type PageParams, pageSlice } from "@tidings/service-kit";
import type { Db, Tx } from "../db.ts";
import {
  publishIdConflict,
  publishNotFound,
  topicContentRequired,
  topicSubscriptionNotFound,
  unknownTemplate,
} from "../errors.ts";
import type { Prisma, TopicSubscription } from "../generated/prisma/client.ts";

interface Actor {
  userId: number | null;
  correlationId?: string;
}

/**
 * The addresses of identity copy `i` a message on topic subscription `s` may go to: verified, not opted
 * out, not inactive, on a channel the subscription takes (all when it names none) and the publish takes
 * (the text[] parameter `$channels`; all when empty). Shared by the recipient count, the fan-out pages and
 * the sends, so all three agree on who is a recipient.
 */
export const eligibleAddressesSql = (channels: string) => `
  SELECT a->>'type' AS type, a->>'address' AS address, coalesce((a->>'default')::boolean, false) AS is_default
  FROM jsonb_array_elements(i.addresses) a
  WHERE coalesce((a->>'verified')::boolean, false)
    AND NOT coalesce((a->>'optedout')::boolean, false)
    AND NOT coalesce((a->>'inactive')::boolean, false)
    AND (cardinality(coalesce(s.channels, '{}')) = 0 OR a->>'type' = ANY(s.channels))
    AND (cardinality(${channels}::text[]) = 0 OR a->>'type' = ANY(${channels}::text[]))`;

/** Topic subscriptions whose identity (in the local copy) has an eligible address: `$1` topic, `$2` channels. */
export const RECIPIENTS_SQL = `
  FROM topic_subscription s JOIN identity_copy i ON i.id = s.identity AND NOT i.deleted
  WHERE s.topic = $1 AND EXISTS (${eligibleAddressesSql("$2")})`;

const toSubscriber = (row: TopicSubscription): TopicSubscriber => ({
  topic: row.topic,
  identity: row.identity,
  channels: row.channels,
  created_at: toSeedTime(row.createdAt),
});

/** Subscribes an identity to a topic (again: its channels are replaced). True when it is new. */
export async function subscribeTopic(
  db: Db,
  topic: string,
  input: SubscribeTopicBody,
  actor: Actor,
): Promise<{ subscriber: TopicSubscriber; created: boolean }> {
  const channels = input.channels ?? [];
  const [row] = await db.$queryRaw<(TopicSubscription & { created: boolean })[]>`
    INSERT INTO topic_subscription (topic, identity, channels, created_by)
    VALUES (${topic}, ${input.identity}::uuid, ${channels}::text[], ${actor.userId})
    ON CONFLICT (topic, identity) DO UPDATE SET channels = EXCLUDED.channels
    RETURNING topic, identity::text, channels, created_at AS "createdAt", (xmax = 0) AS created`;
  const { created, ...subscription } = row as TopicSubscription & { created: boolean };
  return { subscriber: toSubscriber(subscription), created };
}

/** A page of the topic subscriptions `where` picks, in `orderBy` order, each answered as `map` makes it. */
async function topicSubscriptionPage<T>(
  db: Db,
  where: Prisma.TopicSubscriptionWhereInput,
  orderBy: Prisma.TopicSubscriptionOrderByWithRelationInput,
  page: PageParams,
  map: (row: TopicSubscription) => T,
): Promise<{ count: number; results: T[] }> {
  const [count, rows] = await Promise.all([
    db.topicSubscription.count({ where }),
    db.topicSubscription.findMany({ where, orderBy, ...pageSlice(page) }),
  ]);
  return { count, results: rows.map(map) };
}

export const listTopicSubscribers = (db: Db, topic: string, page: PageParams) =>
  topicSubscriptionPage(db, { topic }, { identity: "asc" }, page, toSubscriber);

export async function unsubscribeTopic(db: Db, topic: string, identity: string): Promise<void> {
  const { count } = await db.topicSubscription.deleteMany({ where: { topic, identity } });
  if (count === 0) {
    throw topicSubscriptionNotFound(identity);
  }
}

export const listIdentityTopics = (db: Db, identity: string, page: PageParams) =>
  topicSubscriptionPage(
    db,
    { identity },
    { topic: "asc" },
    page,
    (r): IdentityTopic => ({ topic: r.topic, channels: r.channels, created_at: toSeedTime(r.createdAt) }),
  );

/**
 * An identity's topic subscriptions go: those of one topic, or all of them (`topic` null). Used by
 * unsubscribe links and by opt-outs recorded at the identity service. Returns how many went.
 */
export async function removeTopicSubscriptions(
  db: Db | Tx,
  identity: string,
  topic: string | null,
): Promise<number> {
  const { count } = await db.topicSubscription.deleteMany({
    where: { identity, ...(topic === null ? {} : { topic }) },
  });
  return count;
}

/** What a publish sends: its own content, or a template's body (and subject) copied when it is published. */
/** The text a publish sends: its `content`, or its template's body (and subject) from the local copy. */
export async function resolveContent(
  db: Db,
  input: PreviewTopicBody,
): Promise<{ content: string; subject: string | null }> {
  if ((input.content === undefined) === (input.template === undefined)) {
    throw topicContentRequired();
  }
  if (input.content !== undefined) {
    return { content: input.content, subject: input.subject ?? null };
  }
  const template = await db.templateCopy.findFirst({ where: { id: input.template, deleted: false } });
  if (!template) {
    throw unknownTemplate(input.template);
  }
  return { content: template.body, subject: template.subject ?? input.subject ?? null };
}

/**
 * Records a publish and its `topic.fan-out` in one transaction and answers with the number of recipients
 * (subscribers with a verified, not opted-out address on a wanted channel, now). A publish_id published
 * before sends nothing new: the answer is the first publish's, marked `duplicate` (409 when it was for
 * another topic).
 */
export async function publishTopic(
  db: Db,
  topic: string,
  input: PublishTopicBody,
  actor: Actor,
): Promise<PublishAccepted> {
  const earlier = async () => {
    const row = await db.topicPublish.findUnique({ where: { publishId: input.publish_id } });
    if (row && row.topic !== topic) {
      throw publishIdConflict(input.publish_id);
    }
    return row && { publish_id: row.publishId, topic, recipients: row.recipients, duplicate: true };
  };
  const seen = await earlier();
  if (seen) {
    return seen;
  }
  const { content, subject } = await resolveContent(db, input);
  const channels = input.channels ?? [];
  const created = await db.$transaction(async (tx) => {
    const [{ n }] = (await tx.$queryRawUnsafe<{ n: number }[]>(
      `SELECT count(*)::int AS n ${RECIPIENTS_SQL}`,
      topic,
      channels,
    )) as [{ n: number }];
    const { count } = await tx.topicPublish.createMany({
      data: [
        {
          publishId: input.publish_id,
          topic,
          content,
          subject,
          templateId: input.template ?? null,
          personalisation: input.personalisation ?? {},
          channels,
          recipients: n,
          createdBy: actor.userId,
        },
      ],
      skipDuplicates: true,
    });
    if (count === 1) {
      await enqueue(tx, {
        name: "topic.fan-out",
        payload: { publish_id: input.publish_id },
        messageId: deterministicId("topic-fan-out", input.publish_id),
        correlationId: actor.correlationId,
      });
    }
    return count === 1 ? n : null;
  });
  if (created === null) {
    // Published at the same moment by another request (publishes are never deleted).
    return (await earlier()) as PublishAccepted;
  }
  return { publish_id: input.publish_id, topic, recipients: created, duplicate: false };
}

export async function getPublish(db: Db, publishId: string): Promise<PublishRecord> {
  const row = await db.topicPublish.findUnique({ where: { publishId } });
  if (!row) {
    throw publishNotFound(publishId);
  }
  // The recipients and their counts in one statement, so one snapshot: read apart, a batch recorded between the
  // two reads showed its recipients with no counts.
  const groups = await db.$queryRawUnsafe<
    { status: string; reason: string | null; n: number; recorded: number }[]
  >(
    `SELECT status::text, reason, count(*)::int AS n,
       (SELECT count(DISTINCT identity) FROM topic_recipient WHERE publish_id = $1)::int AS recorded
     FROM topic_recipient WHERE publish_id = $1 GROUP BY status, reason`,
    publishId,
  );
  const recorded = groups[0]?.recorded ?? 0;
  const counts: Record<string, number> = {};
  const failures: Record<string, number> = {};
  for (const g of groups) {
    counts[g.status] = (counts[g.status] ?? 0) + g.n;
    if (g.status === "failed" && g.reason) {
      failures[g.reason] = (failures[g.reason] ?? 0) + g.n;
    }
  }
  return {
    publish_id: row.publishId,
    topic: row.topic,
    template: row.templateId,
    channels: row.channels,
    recipients: row.recipients,
    handed_on: row.handedOn,
    recorded,
    counts,
    failures,
    created_at: toSeedTime(row.createdAt),
  };
}
