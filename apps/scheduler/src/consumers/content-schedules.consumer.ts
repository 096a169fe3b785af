import { disableContentSchedule, mirrorContentSchedule } from "../services/content-mirror.ts";
import type { WorkerDeps } from "./deps.ts";

/** `scheduler.content-schedules`: one scheduler schedule per content schedule; both handlers are idempotent upserts. */
export const consumeContentSchedules = ({ broker, db, clock, config }: WorkerDeps) =>
  broker.consume(
    "scheduler.content-schedules",
    {
      "content.schedule.changed": (schedule) => mirrorContentSchedule(db, schedule, clock()),
      "content.schedule.deleted": ({ id }) => disableContentSchedule(db, id),
    },
    { prefetch: config.AMQP_PREFETCH },
  );
