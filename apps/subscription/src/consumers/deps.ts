import type { ServiceDeps } from "@tidings/service-kit";
import type { SubscriptionConfig } from "../config.ts";
import type { Db } from "../db.ts";

/** What every consumer of the subscription worker receives. */
export type WorkerDeps = ServiceDeps<SubscriptionConfig, Db>;

/** How a fan-out pages and batches (FAN_OUT_BATCH_SIZE, SEND_BATCH_SIZE). */
export const fanOutSizes = (config: SubscriptionConfig) => ({
  pageSize: config.FAN_OUT_BATCH_SIZE,
  sendBatchSize: config.SEND_BATCH_SIZE,
});
