import { recordTopicDelivery } from "../services/topics-send.ts";
import type { WorkerDeps } from "./deps.ts";

/** `subscription.topic-deliveries`: delivery reports of topic sends update their recipients. */
export const consumeTopicDeliveries = ({ broker, db, config }: WorkerDeps) =>
  broker.consume(
    "subscription.topic-deliveries",
    {
      "outbound.delivery_report": async (report) => {
        await recordTopicDelivery(db, report);
      },
    },
    { prefetch: config.AMQP_PREFETCH },
  );
