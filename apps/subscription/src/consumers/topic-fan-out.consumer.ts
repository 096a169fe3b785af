import { fanOutPublish } from "../services/topics-send.ts";
import { fanOutSizes, type WorkerDeps } from "./deps.ts";

/** `subscription.topic-fan-out`: a topic publish fans out to its recipients. */
export const consumeTopicFanOut = ({ broker, db, config, logger }: WorkerDeps) =>
  broker.consume(
    "subscription.topic-fan-out",
    {
      "topic.fan-out": async ({ publish_id }, ctx) => {
        const n = await fanOutPublish(db, broker, publish_id, fanOutSizes(config), ctx.correlationId);
        logger.info({ publishId: publish_id, recipients: n }, "topic publish fanned out");
      },
    },
    { prefetch: 4 },
  );
