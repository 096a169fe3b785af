import { topicChannels } from "../services/topics-config.ts";
import { sendTopicBatch } from "../services/topics-send.ts";
import type { WorkerDeps } from "./deps.ts";

/** `subscription.topic-send`: a batch of a topic publish is sent, each with its unsubscribe link. */
export function consumeTopicSend({ broker, db, config }: WorkerDeps) {
  const sendOptions = {
    unsubscribeSecret: config.UNSUBSCRIBE_SECRET,
    unsubscribeTtlDays: config.UNSUBSCRIBE_TTL_DAYS,
    publicUrl: config.UNSUBSCRIBE_BASE_URL ?? config.PUBLIC_URL ?? `http://localhost:${config.PORT}`,
    channels: topicChannels(config.TOPIC_CHANNELS),
  };
  return broker.consume(
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
    { prefetch: config.AMQP_PREFETCH },
  );
}
