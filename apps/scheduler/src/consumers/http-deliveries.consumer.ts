import { queues } from "@tidings/contracts";
import { deliver } from "../services/delivery.ts";
import type { WorkerDeps } from "./deps.ts";

/**
 * `scheduler.http-deliveries`: POSTs due slots of HTTP schedules (`schedule.deliver`), retried by the queue's
 * policy (HTTP_RETRY_DELAYS_MS replaces its delays), then recorded.
 */
export function consumeHttpDeliveries({ broker, db, clock, guard, config }: WorkerDeps) {
  const retry = config.HTTP_RETRY_DELAYS_MS
    ? { delaysMs: config.HTTP_RETRY_DELAYS_MS.split(",").map(Number) }
    : undefined;
  const maxAttempts = queues["scheduler.http-deliveries"].retry.maxAttempts;
  return broker.consume(
    "scheduler.http-deliveries",
    { "schedule.deliver": (command, ctx) => deliver(db, command, ctx, { maxAttempts, now: clock, guard }) },
    { prefetch: config.AMQP_PREFETCH, retry },
  );
}
