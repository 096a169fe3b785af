import { enqueue } from "@tidings/amqp";
import { deterministicId, type ScheduleFired } from "@tidings/contracts";
import type { Logger } from "@tidings/service-kit";
import { latestSlot, nextSlot } from "./cron.ts";
import type { Db } from "./db.ts";

export type Clock = () => Date;
export const systemClock: Clock = () => new Date();

/** Due schedules claimed per transaction. */
const BATCH = 200;

export interface FireableSchedule {
  id: string;
  payload: ScheduleFired["payload"];
  source_service: string | null;
  source_ref: string | null;
}

interface DueRow extends FireableSchedule {
  cron_definition: string;
  timezone: string;
  next_send_at: Date;
}

type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

/**
 * Records the run of one slot and writes its `schedule.fired` to the outbox, in the caller's transaction.
 * The unique (schedule, slot) run makes a second firing of the same slot a no-op: returns false then.
 */
export async function fireSlot(
  tx: Tx,
  schedule: FireableSchedule,
  slot: Date,
  manual: boolean,
): Promise<boolean> {
  const inserted = await tx.$executeRawUnsafe(
    `INSERT INTO schedule_run (id, schedule_id, slot, manual) VALUES ($1::uuid, $2::uuid, $3, $4)
     ON CONFLICT (schedule_id, slot) DO NOTHING`,
    deterministicId("schedule-run", schedule.id, slot.toISOString()),
    schedule.id,
    slot,
    manual,
  );
  if (inserted !== 1) {
    return false;
  }
  await enqueue(tx, {
    name: "schedule.fired",
    messageId: deterministicId("schedule.fired", schedule.id, slot.toISOString()),
    payload: {
      schedule_id: schedule.id,
      slot: slot.toISOString(),
      manual,
      source:
        schedule.source_service && schedule.source_ref
          ? { service: schedule.source_service, ref: schedule.source_ref }
          : null,
      payload: schedule.payload,
    },
  });
  return true;
}

/**
 * Finds due slots and fires each exactly once. Due schedules are claimed with `FOR UPDATE SKIP LOCKED`
 * (one indexed query per tick, however many schedules share an expression), so scheduler replicas split
 * the work; the unique (schedule, slot) run record and the outbox row for `schedule.fired` are written in
 * one transaction with the schedule's new `next_send_at`, so a slot can neither fire twice nor be lost.
 *
 * After downtime a schedule fires its latest missed slot once, then moves on to the future.
 */
export class Ticker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly clock: Clock = systemClock,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.running ??= this.tick()
        .catch((err: unknown) => {
          this.log.warn({ err }, "scheduler tick failed");
          return 0;
        })
        .finally(() => {
          this.running = undefined;
        });
    }, intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Fires every due slot; returns how many it fired. */
  async tick(): Promise<number> {
    let fired = 0;
    for (;;) {
      const batch = await this.fireBatch();
      fired += batch.fired;
      if (batch.claimed < BATCH) {
        return fired;
      }
    }
  }

  private fireBatch(): Promise<{ claimed: number; fired: number }> {
    const now = this.clock();
    return this.db.$transaction(async (tx) => {
      const due = await tx.$queryRawUnsafe<DueRow[]>(
        `SELECT id, cron_definition, timezone, next_send_at, payload, source_service, source_ref
         FROM schedule WHERE enabled AND next_send_at <= $1
         ORDER BY next_send_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
        now,
      );
      let fired = 0;
      for (const schedule of due) {
        const slot = latestSlot(schedule.cron_definition, schedule.timezone, now);
        const isFired = await fireSlot(tx, schedule, slot, false);
        if (isFired) {
          fired++;
        }
        await tx.$executeRawUnsafe(
          "UPDATE schedule SET next_send_at = $2, last_run = $3 WHERE id = $1::uuid",
          schedule.id,
          nextSlot(schedule.cron_definition, schedule.timezone, now),
          now,
        );
        this.log.info({ scheduleId: schedule.id, slot, fired: isFired }, "schedule slot due");
      }
      return { claimed: due.length, fired };
    });
  }
}
