import { contentScheduleOf, fanOutSchedule } from "../services/fan-out.ts";
import { fanOutSizes, type WorkerDeps } from "./deps.ts";

/** `subscription.fan-out`: a fired content schedule (or a manual send) fans out to its ready subscriptions. */
export const consumeFanOut = ({ broker, db, config, logger }: WorkerDeps) =>
  broker.consume(
    "subscription.fan-out",
    {
      "schedule.fired": async (fired, ctx) => {
        const schedule = contentScheduleOf(fired, ctx.log);
        if (schedule !== null) {
          const command = { schedule, slot: fired.slot, correlationId: ctx.messageId };
          await fanOutSchedule(logger, db, broker, command, fanOutSizes(config));
        }
      },
      "subscription.fan-out": (command, ctx) =>
        fanOutSchedule(
          logger,
          db,
          broker,
          { schedule: command.schedule, slot: command.slot, correlationId: ctx.correlationId },
          fanOutSizes(config),
        ),
    },
    // A fan-out publishes a page at a time; a few in parallel are plenty.
    { prefetch: 4 },
  );
