import type { OutboxMessage } from "@tidings/amqp";
import {
  assertPayload,
  deterministicId,
  InvalidPayloadError,
  type ScheduleCatchUpPolicy,
} from "@tidings/contracts";
import { publish } from "@tidings/hooks";
import { type Clock, type Logger, systemClock } from "@tidings/service-kit";
import { type CatchUpLimits, DEFAULT_CATCH_UP_LIMITS } from "./config.ts";
import type { Db, Tx } from "./db.ts";
import type { ScheduleRun } from "./generated/prisma/client.ts";
import { toRun } from "./runs.ts";
import { type AmqpTarget, slotMessage } from "./targets.ts";
import { dueSlots, type Trigger } from "./timing.ts";

/** Due schedules claimed per transaction. */
const BATCH = 200;

export interface FireableSchedule extends AmqpTarget {
  /** Set for HTTP targets: the slot becomes a `schedule.deliver` command instead of an AMQP message. */
  endpoint: string | null;
  timeout_seconds: number;
}

interface DueRow extends FireableSchedule {
  cron_definition: string | null;
  interval_definition: string | null;
  interval_anchor: Date | null;
  timezone: string;
  catch_up: ScheduleCatchUpPolicy;
  next_cron_at: Date | null;
  next_interval_at: Date | null;
}

/** The run record's id of a slot (Seed's task id), the same whoever fires it. */
export const runIdOf = (scheduleId: string, slot: Date) =>
  deterministicId("schedule-run", scheduleId, slot.toISOString());

/**
 * Records the run of one slot and writes its message to the outbox, in the caller's transaction: for AMQP
 * targets `schedule.fired` or the schedule's catalogued `message` (tokens substituted), for HTTP targets
 * `schedule.deliver` (the HTTP POST, done by the scheduler worker). The unique (schedule, slot) run makes a
 * second firing of the same slot a no-op: returns false then. Hooks of `schedule.fired` get the run.
 * An AMQP payload that is not valid for its message (only possible if a contract changed after the schedule
 * was saved) throws InvalidPayloadError before anything is written.
 */
export async function fireSlot(
  tx: Tx,
  schedule: FireableSchedule,
  slot: Date,
  trigger: Trigger,
): Promise<boolean> {
  const runId = runIdOf(schedule.id, slot);
  const manual = trigger === "manual";
  const message: OutboxMessage = schedule.endpoint
    ? {
        name: "schedule.deliver",
        messageId: deterministicId("schedule.deliver", schedule.id, slot.toISOString()),
        payload: {
          schedule_id: schedule.id,
          run_id: runId,
          slot: slot.toISOString(),
          manual,
          endpoint: schedule.endpoint,
          payload: schedule.payload,
          timeout_seconds: schedule.timeout_seconds,
        },
      }
    : slotMessage(schedule, slot, runId, manual);
  assertPayload(message.name, message.payload);
  const runs = await tx.$queryRawUnsafe<ScheduleRun[]>(
    `INSERT INTO schedule_run (id, schedule_id, slot, manual, trigger) VALUES ($1::uuid, $2::uuid, $3, $4, $5)
     ON CONFLICT (schedule_id, slot) DO NOTHING
     RETURNING id, schedule_id AS "scheduleId", slot, manual, trigger, fired_at AS "firedAt",
       delivered_at AS "deliveredAt"`,
    runId,
    schedule.id,
    slot,
    manual,
    trigger,
  );
  const run = runs[0];
  if (!run) {
    return false;
  }
  await publish(tx, message, { hook: "schedule.fired", data: toRun(run) });
  return true;
}

/**
 * Finds due slots and fires each exactly once. Due schedules are claimed with `FOR UPDATE SKIP LOCKED`
 * (one indexed query per tick, however many schedules share an expression), so scheduler replicas split
 * the work; the unique (schedule, slot) run record and the outbox row are written in one transaction with
 * the schedule's new pending slots, so a slot can neither fire twice nor be lost.
 *
 * Which missed slots fire after downtime is each schedule's `catch_up` policy (see `dueSlots`).
 */
export class Ticker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly clock: Clock = systemClock,
    private readonly limits: CatchUpLimits = DEFAULT_CATCH_UP_LIMITS,
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

  /**
   * A schedule that cannot fire (timing or payload validated on the way in, so unexpected: a changed
   * contract): looked at again in an hour rather than blocking every other schedule of the batch.
   */
  private async setAside(tx: Tx, scheduleId: string, now: Date, err: unknown, what: string): Promise<void> {
    this.log.error({ err, scheduleId }, `${what}; retrying in an hour`);
    await tx.$executeRawUnsafe(
      "UPDATE schedule SET next_send_at = $2 WHERE id = $1::uuid",
      scheduleId,
      new Date(now.getTime() + 3_600_000),
    );
  }

  private fireBatch(): Promise<{ claimed: number; fired: number }> {
    const now = this.clock();
    return this.db.$transaction(async (tx) => {
      const due = await tx.$queryRawUnsafe<DueRow[]>(
        `SELECT id, cron_definition, interval_definition, interval_anchor, timezone, catch_up, next_cron_at,
                next_interval_at, payload, source_service, source_ref, endpoint, message, timeout_seconds
         FROM schedule WHERE enabled AND next_send_at <= $1
         ORDER BY next_send_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
        now,
      );
      let fired = 0;
      // Schedules sharing an expression (and pending slot) share one computation.
      const plans = new Map<string, ReturnType<typeof dueSlots>>();
      for (const schedule of due) {
        const timing = {
          cronDefinition: schedule.cron_definition,
          intervalDefinition: schedule.interval_definition,
          intervalAnchor: schedule.interval_anchor,
          timezone: schedule.timezone,
          catchUp: schedule.catch_up,
          nextCronAt: schedule.next_cron_at,
          nextIntervalAt: schedule.next_interval_at,
        };
        const key = JSON.stringify(timing);
        let plan = plans.get(key);
        if (!plan) {
          try {
            plan = dueSlots(timing, now, this.limits);
          } catch (err) {
            await this.setAside(tx, schedule.id, now, err, "schedule timing unusable");
            continue;
          }
          plans.set(key, plan);
        }
        let firedHere = 0;
        try {
          for (const { slot, trigger } of plan.slots) {
            if (await fireSlot(tx, schedule, slot, trigger)) {
              firedHere++;
            }
          }
        } catch (err) {
          // Thrown before any write of the slot (every slot of a schedule has the same message).
          if (!(err instanceof InvalidPayloadError)) {
            throw err;
          }
          await this.setAside(tx, schedule.id, now, err, "schedule payload invalid for its message");
          continue;
        }
        fired += firedHere;
        // AMQP targets ran when their message was written; HTTP targets set last_run when a POST succeeds.
        const ran = firedHere > 0 && !schedule.endpoint;
        await tx.$executeRawUnsafe(
          `UPDATE schedule SET next_cron_at = $2, next_interval_at = $3, next_send_at = $4,
             last_run = CASE WHEN $5::boolean THEN $6::timestamptz ELSE last_run END
           WHERE id = $1::uuid`,
          schedule.id,
          plan.nextCronAt,
          plan.nextIntervalAt,
          plan.nextSendAt,
          ran,
          now,
        );
        this.log.info(
          { scheduleId: schedule.id, slots: plan.slots.map((s) => s.slot), fired: firedHere },
          "schedule slots due",
        );
      }
      return { claimed: due.length, fired };
    });
  }
}
