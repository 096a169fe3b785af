import type { Broker, Consumer } from "@tidings/amqp";
import type { Clock } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import { disableContentSchedule, mirrorContentSchedule } from "../services/content-mirror.ts";

/** Keeps one scheduler schedule per content schedule. Both handlers are idempotent upserts. */
export function consumeContentSchedules(
  broker: Broker,
  db: Db,
  clock: Clock,
  prefetch: number,
): Promise<Consumer<"scheduler.content-schedules">> {
  return broker.consume(
    "scheduler.content-schedules",
    {
      "content.schedule.changed": (schedule) => mirrorContentSchedule(db, schedule, clock()),
      "content.schedule.deleted": ({ id }) => disableContentSchedule(db, id),
    },
    { prefetch },
  );
}
