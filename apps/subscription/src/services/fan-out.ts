import { type Broker, enqueue, isFirstDelivery } from "@tidings/amqp";
import { deterministicId, type Payload } from "@tidings/contracts";
import { latestSlot } from "@tidings/contracts/cron";
import type { Logger } from "@tidings/service-kit";
import { Histogram } from "prom-client";
import type { Db } from "../db.ts";
import { scheduleNotFound } from "../errors.ts";

/** The keyset start: below every uuid. */
const FIRST_UUID = "00000000-0000-0000-0000-000000000000";

const fanOutSize = new Histogram({
  name: "tidings_fanout_size",
  help: "Recipients one fan-out handed on, by kind (stage: a fired content schedule; topic: a topic publish)",
  labelNames: ["kind"] as const,
  buckets: [0, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000],
});

const fanOutDuration = new Histogram({
  name: "tidings_fanout_duration_seconds",
  help: "How long one fan-out took to page through and hand on its recipients, by kind (stage, topic)",
  labelNames: ["kind"] as const,
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
});

/**
 * Pages through ids in keyset order (never one huge query: each page starts after the last id of the one
 * before) and hands them on in batches of `sendBatchSize`, a page's batches at once, for competing
 * consumers. Returns how many ids it handed on; a completed one is measured (tidings_fanout_size, _duration_seconds)
 * by `kind`.
 */
export async function fanOutKeyset(
  kind: "stage" | "topic",
  page: (after: string, limit: number) => Promise<string[]>,
  publishBatch: (ids: string[]) => Promise<unknown>,
  sizes: { pageSize: number; sendBatchSize: number },
): Promise<number> {
  const stopTimer = fanOutDuration.startTimer({ kind });
  let after = FIRST_UUID;
  let total = 0;
  for (;;) {
    const ids = await page(after, sizes.pageSize);
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += sizes.sendBatchSize) {
      batches.push(ids.slice(i, i + sizes.sendBatchSize));
    }
    await Promise.all(batches.map(publishBatch));
    total += ids.length;
    const last = ids.at(-1);
    if (!last || ids.length < sizes.pageSize) {
      stopTimer();
      fanOutSize.observe({ kind }, total);
      return total;
    }
    after = last;
  }
}

/**
 * Seed's send trigger (`POST /api/v1/schedule/{id}/send/`): a manual fan-out of a content schedule for its latest
 * slot at or before `now` (404 for a schedule not in the local copy). The slot is the cron slot the scheduler's
 * `schedule.fired` carries for it (one cron and DST policy, `@tidings/contracts/cron`), so the subscriptions that
 * slot has sent, whichever way it came, are skipped (`last_slot >= slot`): repeated calls within a slot send
 * nothing more, and a call after the next slot sends each the next message. A schedule whose current timing was
 * saved after that slot (the copy's `version`, content's `updated_at`) has had no slot yet: nothing is sent. A slot
 * is fanned out once by the trigger, however often it is called (while the processed-message record lasts).
 */
export async function requestScheduleSend(
  db: Db,
  schedule: number,
  now: Date,
  log: Pick<Logger, "info">,
  correlationId?: string,
): Promise<void> {
  const known = await db.scheduleCopy.findFirst({ where: { id: schedule, deleted: false } });
  if (!known) {
    throw scheduleNotFound(schedule);
  }
  const slot = latestSlot(known.cron, known.timezone, now);
  if (!slot || slot < known.version) {
    log.info({ schedule }, "schedule send: no slot of the schedule yet; nothing sent");
    return;
  }
  // One fan-out per slot however often the trigger is called (each pages every ready subscription): the (schedule,
  // slot) is recorded as handled with the command that asks for it.
  const request = {
    queue: "subscription.fan-out" as const,
    messageId: deterministicId("schedule-send", schedule, slot.toISOString()),
  };
  await db.$transaction(async (tx) => {
    if (!(await isFirstDelivery(tx, request))) {
      log.info(
        { schedule, slot },
        "schedule send: this slot's fan-out was asked for already; nothing more sent",
      );
      return;
    }
    await enqueue(tx, {
      name: "subscription.fan-out",
      payload: { schedule, slot: slot.toISOString(), manual: true },
      correlationId,
    });
  });
}

/**
 * Pages through the ready subscriptions of a content schedule (keyset on id over a partial index, never
 * one huge query) and publishes them as `subscription.send-next` batches of `sendBatchSize` for competing
 * consumers. A fan-out that runs again (a redelivered trigger) may publish overlapping batches: the slot
 * guard in sendBatch makes each subscription send at most once per slot whatever arrives.
 */
export async function fanOut(
  db: Db,
  broker: Broker,
  command: { schedule: number; slot: string; correlationId?: string },
  sizes: { pageSize: number; sendBatchSize: number },
): Promise<number> {
  return fanOutKeyset(
    "stage",
    async (after, limit) =>
      (
        await db.$queryRawUnsafe<{ id: string }[]>(
          `SELECT id FROM subscription
           WHERE schedule = $1 AND active AND NOT completed AND process_status = 0 AND id > $2::uuid
           ORDER BY id LIMIT $3`,
          command.schedule,
          after,
          limit,
        )
      ).map((r) => r.id),
    (ids) =>
      broker.publish(
        "subscription.send-next",
        { subscription_ids: ids, schedule: command.schedule, slot: command.slot },
        {
          messageId: deterministicId("send-next", command.slot, ...ids),
          correlationId: command.correlationId,
        },
      ),
    sizes,
  );
}

/** A fired schedule (`schedule.fired`, or a manual `subscription.fan-out`) fanned out (`fanOut`'s arguments), and logged. */
export async function fanOutSchedule(log: Logger, ...args: Parameters<typeof fanOut>): Promise<void> {
  const n = await fanOut(...args);
  const [, , { schedule, slot }] = args;
  log.info({ schedule, slot, subscriptions: n }, "schedule fanned out");
}

/** The content schedule a `schedule.fired` is for; null (and logged) for a schedule of another service. */
export function contentScheduleOf(fired: Payload<"schedule.fired">, log: Logger): number | null {
  if (fired.source?.service !== "content") {
    log.debug("not a content schedule; ignored");
    return null;
  }
  return Number(fired.source.ref);
}
