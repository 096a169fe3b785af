import { disableContentSchedule, mirrorContentSchedule } from "../services/content-mirror.ts";
import { forgetInSchedules } from "../services/forget.ts";
import type { WorkerDeps } from "./deps.ts";

/**
 * `scheduler.content-schedules`: one scheduler schedule per content schedule (both handlers are idempotent
 * upserts); and a forget (`optout.created` of type `forget`) takes the person out of every schedule.
 */
export const consumeContentSchedules = ({ broker, db, clock, config }: WorkerDeps) =>
  broker.consume(
    "scheduler.content-schedules",
    {
      "content.schedule.changed": (schedule) => mirrorContentSchedule(db, schedule, clock()),
      "content.schedule.deleted": ({ id }) => disableContentSchedule(db, id),
      "optout.created": async (optout) => {
        if (optout.optout_type === "forget") {
          await forgetInSchedules(db, broker, optout);
        }
      },
    },
    { prefetch: config.AMQP_PREFETCH },
  );
