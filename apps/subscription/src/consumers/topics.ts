import type { Broker, Consumer } from "@tidings/amqp";
import type { QueueName } from "@tidings/contracts";
import type { Logger } from "@tidings/service-kit";
import type { SubscriptionConfig } from "../config.ts";
import type { Db } from "../db.ts";
import { copyIdentity, forgetIdentityCopy } from "../services/identity-copy.ts";
import { topicChannels } from "../services/topics-config.ts";
import { fanOutPublish, recordTopicDelivery, sendTopicBatch } from "../services/topics-send.ts";

/** The topic consumers: the identity copy, publish fan-out, per-batch sends and delivery reports. */
export async function startTopicConsumers(
  broker: Broker,
  db: Db,
  config: SubscriptionConfig,
  logger: Logger,
): Promise<Consumer<QueueName>[]> {
  const prefetch = config.AMQP_PREFETCH;
  const sendOptions = {
    unsubscribeSecret: config.UNSUBSCRIBE_SECRET,
    unsubscribeTtlDays: config.UNSUBSCRIBE_TTL_DAYS,
    publicUrl: config.UNSUBSCRIBE_BASE_URL ?? config.PUBLIC_URL ?? `http://localhost:${config.PORT}`,
    channels: topicChannels(config.TOPIC_CHANNELS),
  };
  return [
    await broker.consume(
      "subscription.identity-copy",
      {
        "identity.created": async (identity) => {
          await copyIdentity(db, identity);
        },
        "identity.updated": async (identity) => {
          await copyIdentity(db, identity);
        },
        "identity.deleted": ({ id }) => forgetIdentityCopy(db, id),
      },
      { prefetch },
    ),
    await broker.consume(
      "subscription.topic-fan-out",
      {
        "topic.fan-out": async ({ publish_id }, ctx) => {
          const n = await fanOutPublish(
            db,
            broker,
            publish_id,
            { pageSize: config.FAN_OUT_BATCH_SIZE, sendBatchSize: config.SEND_BATCH_SIZE },
            ctx.correlationId,
          );
          logger.info({ publishId: publish_id, recipients: n }, "topic publish fanned out");
        },
      },
      { prefetch: 4 },
    ),
    await broker.consume(
      "subscription.topic-send",
      {
        "topic.send-batch": async (command, ctx) => {
          const outcome = await sendTopicBatch(db, command, {
            ...sendOptions,
            correlationId: ctx.correlationId,
          });
          ctx.log.debug({ publishId: command.publish_id, ...outcome }, "topic batch sent");
        },
      },
      { prefetch },
    ),
    await broker.consume(
      "subscription.topic-deliveries",
      {
        "outbound.delivery_report": async (report) => {
          await recordTopicDelivery(db, report);
        },
      },
      { prefetch },
    ),
  ] as Consumer<QueueName>[];
}
