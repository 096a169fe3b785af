import type { Broker, Consumer } from "@tidings/amqp";
import { queues, type RetryPolicy } from "@tidings/contracts";
import type { Clock } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import type { EndpointGuard } from "../endpoints.ts";
import { deliver } from "../services/delivery.ts";

/** POSTs due slots of HTTP schedules (`schedule.deliver`), retried by the queue's policy, then recorded. */
export function consumeHttpDeliveries(
  broker: Broker,
  db: Db,
  clock: Clock,
  guard: EndpointGuard,
  prefetch: number,
  retry?: Partial<RetryPolicy>,
): Promise<Consumer<"scheduler.http-deliveries">> {
  const maxAttempts = retry?.maxAttempts ?? queues["scheduler.http-deliveries"].retry.maxAttempts;
  return broker.consume(
    "scheduler.http-deliveries",
    { "schedule.deliver": (command, ctx) => deliver(db, command, ctx, { maxAttempts, now: clock, guard }) },
    { prefetch, retry },
  );
}
