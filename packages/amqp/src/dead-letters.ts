import { setTimeout as sleep } from "node:timers/promises";
import { type QueueName, toSeedTime } from "@tidings/contracts";
import type { ConfirmChannel, GetMessage } from "amqplib";
import type { Broker } from "./broker.ts";
import { ATTEMPT_HEADER, ERROR_HEADER, FAILED_AT_HEADER } from "./consumer.ts";
import { publishConfirmed } from "./publish.ts";

export interface DeadLetter {
  messageId: string;
  type: string;
  payload: unknown;
  error: string | null;
  attempts: number;
  /** When it was dead-lettered, as the APIs answer a time (see toSeedTime). */
  failedAt: string | null;
}

interface ScanOptions {
  /** At most this many messages are looked at. */
  limit?: number;
}

const header = (headers: Record<string, unknown> | undefined, name: string): string | null =>
  headers?.[name] === undefined ? null : String(headers[name]);

/** The dead-lettering time (written with `toISOString()`) as the APIs answer a time; a header it cannot read as is. */
function failedAt(headers: Record<string, unknown> | undefined): string | null {
  const at = header(headers, FAILED_AT_HEADER);
  const time = at === null ? null : new Date(at);
  return time && !Number.isNaN(time.getTime()) ? toSeedTime(time) : at;
}

function parse(content: Buffer): unknown {
  try {
    return JSON.parse(content.toString("utf8"));
  } catch {
    return content.toString("utf8");
  }
}

/** How many messages sit in `<queue>.dlq`. */
export async function countDeadLetters(broker: Broker, queue: QueueName): Promise<number> {
  const channel = await broker.channel();
  try {
    return (await channel.checkQueue(broker.names.deadLetterQueue(queue))).messageCount;
  } finally {
    await channel.close();
  }
}

export interface QueueStats {
  queue: QueueName;
  /** Ready messages in the queue (not those delivered and unacknowledged). */
  messages: number;
  consumers: number;
  /** Messages in its `<queue>.dlq`. */
  deadLetters: number;
}

/** Depth and consumer count of each queue and its dead-letter queue, on one channel (passive declares). */
export async function queueStats(broker: Broker, queues: readonly QueueName[]): Promise<QueueStats[]> {
  const channel = await broker.channel();
  try {
    const stats: QueueStats[] = [];
    for (const queue of queues) {
      const { messageCount, consumerCount } = await channel.checkQueue(broker.names.queue(queue));
      const dlq = await channel.checkQueue(broker.names.deadLetterQueue(queue));
      stats.push({ queue, messages: messageCount, consumers: consumerCount, deadLetters: dlq.messageCount });
    }
    return stats;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/**
 * Lists what sits in `<queue>.dlq` without taking it: the messages are read unacknowledged and go back
 * when the channel closes.
 */
export async function listDeadLetters(
  broker: Broker,
  queue: QueueName,
  { limit = 100 }: ScanOptions = {},
): Promise<DeadLetter[]> {
  const channel = await broker.channel();
  try {
    const found: DeadLetter[] = [];
    while (found.length < limit) {
      const msg = await channel.get(broker.names.deadLetterQueue(queue), { noAck: false });
      if (!msg) {
        break;
      }
      const headers = msg.properties.headers;
      found.push({
        messageId: String(msg.properties.messageId ?? ""),
        type: String(msg.properties.type ?? msg.fields.routingKey),
        payload: parse(msg.content),
        error: header(headers, ERROR_HEADER),
        attempts: Number(headers?.[ATTEMPT_HEADER] ?? 1),
        failedAt: failedAt(headers),
      });
    }
    return found;
  } finally {
    await channel.close();
  }
}

/** How long a replay of given message ids looks again for those another channel holds (see replayDeadLetters). */
const HELD_ELSEWHERE = { forMs: 3_000, everyMs: 100 };

/**
 * Moves dead-lettered messages back to their queue for another full set of attempts: all of them, or those
 * whose messageId is listed. Each copy is confirmed before the dead letter is removed.
 *
 * A listing (listDeadLetters, on any API instance) holds the letters it reads until its channel closes, and the
 * DLQ does not hand them out meanwhile: a replay of given ids that does not find them all looks again, for up to
 * three seconds (an operator's replay during another's listing had answered "Replayed 0."). A replay of all of
 * them moves those in the DLQ and not held by a listing at that moment.
 */
export async function replayDeadLetters(
  broker: Broker,
  queue: QueueName,
  { messageIds, limit = 10_000 }: ScanOptions & { messageIds?: readonly string[] } = {},
): Promise<number> {
  const wanted = messageIds ? new Set(messageIds) : undefined;
  const giveUpAt = Date.now() + HELD_ELSEWHERE.forMs;
  let replayed = await replayPass(broker, queue, wanted, limit);
  while (wanted && wanted.size > 0 && replayed < limit && Date.now() < giveUpAt) {
    await sleep(HELD_ELSEWHERE.everyMs);
    replayed += await replayPass(broker, queue, wanted, limit - replayed);
  }
  return replayed;
}

/**
 * One scan of `<queue>.dlq` as it is now, on a channel of its own: `take` is shown each of the letters in it when the
 * scan began (at most `limit`), and a letter it does not take (false) is left unacknowledged, back in the DLQ when
 * the channel closes. Only those: a letter put back at the DLQ's tail while we scan (one replayed that fails again)
 * is not shown again. Returns how many were taken.
 */
async function scanDeadLetters(
  broker: Broker,
  queue: QueueName,
  limit: number,
  take: (msg: GetMessage, channel: ConfirmChannel) => Promise<boolean>,
): Promise<number> {
  const dlq = broker.names.deadLetterQueue(queue);
  const channel = await broker.channel();
  let taken = 0;
  try {
    const { messageCount } = await channel.checkQueue(dlq);
    for (let seen = 0; seen < Math.min(limit, messageCount); seen++) {
      const msg = await channel.get(dlq, { noAck: false });
      if (!msg) {
        break;
      }
      if (await take(msg, channel)) {
        channel.ack(msg);
        taken += 1;
      }
    }
  } finally {
    await channel.close();
  }
  return taken;
}

/** One scan of the DLQ as it is now (every copy of a wanted id); the ids replayed leave `wanted` after it. */
async function replayPass(
  broker: Broker,
  queue: QueueName,
  wanted: Set<string> | undefined,
  limit: number,
): Promise<number> {
  const found: string[] = [];
  const replayed = await scanDeadLetters(broker, queue, limit, async (msg, channel) => {
    const messageId = String(msg.properties.messageId);
    if (wanted && !wanted.has(messageId)) {
      return false;
    }
    const { [ATTEMPT_HEADER]: _a, [ERROR_HEADER]: _e, ...headers } = msg.properties.headers ?? {};
    await publishConfirmed(channel, "", broker.names.queue(queue), msg.content, {
      ...msg.properties,
      headers,
    });
    found.push(messageId);
    return true;
  });
  for (const id of found) {
    wanted?.delete(id);
  }
  return replayed;
}

/**
 * Forget: removes from the DLQs of `queues` every dead letter about a forgotten person, one whose JSON payload holds
 * one of `needles` (their identity id, their addresses) as a string value or an object key anywhere in it, equal
 * but for case (a message that only mentions one inside a longer text is not theirs). Those are moot (the person's
 * sends are cancelled, their copies dropped) and hold their personal data. The rest stay (scanDeadLetters), as a
 * listing leaves them. Letters another channel holds at that moment (a listing's) are not seen. Returns how many
 * were removed.
 */
export async function forgetDeadLetters(
  broker: Broker,
  queues: readonly QueueName[],
  needles: readonly string[],
): Promise<number> {
  const person = new Set(needles.filter((n) => n !== "").map((n) => n.toLowerCase()));
  if (person.size === 0) {
    return 0;
  }
  let removed = 0;
  for (const queue of queues) {
    removed += await scanDeadLetters(broker, queue, Number.POSITIVE_INFINITY, async (msg) =>
      holdsAny(parse(msg.content), person),
    );
  }
  return removed;
}

function holdsAny(value: unknown, needles: ReadonlySet<string>): boolean {
  if (typeof value === "string") {
    return needles.has(value.toLowerCase());
  }
  if (Array.isArray(value)) {
    return value.some((item) => holdsAny(item, needles));
  }
  if (value !== null && typeof value === "object") {
    return Object.entries(value).some(
      ([key, item]) => needles.has(key.toLowerCase()) || holdsAny(item, needles),
    );
  }
  return false;
}
