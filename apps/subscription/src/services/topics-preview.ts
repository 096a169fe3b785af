import type { PreviewTopicBody, PublishPreview, TopicSummary } from "@tidings/contracts";
import { type PageParams, pageSlice } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import { eligibleAddressesSql, RECIPIENTS_SQL, resolveContent } from "./topics.ts";
import { mailMerge } from "./topics-send.ts";

/** Every topic with a subscriber, with how many it has, in topic order. */
export async function listTopics(
  db: Db,
  page: PageParams,
): Promise<{ count: number; results: TopicSummary[] }> {
  const [[{ count }], rows] = await Promise.all([
    db.$queryRawUnsafe<{ count: number }[]>(
      "SELECT count(DISTINCT topic)::int AS count FROM topic_subscription",
    ) as Promise<[{ count: number }]>,
    db.topicSubscription.groupBy({
      by: ["topic"],
      _count: { _all: true },
      orderBy: { topic: "asc" },
      ...pageSlice(page),
    }),
  ]);
  return { count, results: rows.map((r) => ({ topic: r.topic, subscribers: r._count._all })) };
}

const asCounts = (rows: { key: string; n: number }[]) => Object.fromEntries(rows.map((r) => [r.key, r.n]));

/**
 * What a publish to `topic` would send now, sending nothing: its recipients (by the same rule as the publish)
 * per channel and language, the text, and the first recipient's mail-merged message.
 */
export async function previewPublish(
  db: Db,
  topic: string,
  input: PreviewTopicBody,
): Promise<PublishPreview> {
  const text = await resolveContent(db, input);
  const channels = input.channels ?? [];
  const [subscribers, perChannel, perLanguage, first] = await Promise.all([
    db.topicSubscription.count({ where: { topic } }),
    db.$queryRawUnsafe<{ key: string; n: number }[]>(
      `SELECT e.type AS key, count(DISTINCT s.identity)::int AS n
       FROM topic_subscription s JOIN identity_copy i ON i.id = s.identity AND NOT i.deleted
       CROSS JOIN LATERAL (${eligibleAddressesSql("$2")}) e
       WHERE s.topic = $1 GROUP BY e.type ORDER BY e.type`,
      topic,
      channels,
    ),
    db.$queryRawUnsafe<{ key: string; n: number }[]>(
      `SELECT coalesce(i.details->>'lang_code', 'unknown') AS key, count(*)::int AS n ${RECIPIENTS_SQL}
       GROUP BY 1 ORDER BY 1`,
      topic,
      channels,
    ),
    db.$queryRawUnsafe<{ id: string; details: Record<string, unknown> }[]>(
      `SELECT i.id, i.details ${RECIPIENTS_SQL} ORDER BY i.id LIMIT 1`,
      topic,
      channels,
    ),
  ]);
  const languages = asCounts(perLanguage);
  const sample = first[0] && {
    identity: first[0].id,
    ...mailMerge(
      { subject: text.subject, body: text.content },
      input.personalisation ?? {},
      first[0].details,
    ),
  };
  return {
    topic,
    subscribers,
    recipients: Object.values(languages).reduce((a, b) => a + b, 0),
    messages: perChannel.reduce((a, r) => a + r.n, 0),
    channels: asCounts(perChannel),
    languages,
    subject: text.subject,
    content: text.content,
    sample: sample
      ? sample.ok
        ? { identity: sample.identity, subject: sample.subject, body: sample.body, missing: null }
        : { identity: sample.identity, subject: null, body: null, missing: sample.missing }
      : null,
  };
}
