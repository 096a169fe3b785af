import { randomUUID } from "node:crypto";
import { NonRetryableError } from "@tidings/amqp";
import type { ContentSchedule } from "@tidings/contracts";
import { cronProblem, timezoneProblem } from "@tidings/contracts/cron";
import type { Db } from "../db.ts";
import { nextTimes } from "../timing.ts";
import { announceAdded, NO_NEXT } from "./schedule-rows.ts";

const CONTENT = "content";

/**
 * Mirrors a content schedule: one scheduler schedule per content schedule, whose slots are fired as
 * `schedule.fired` with `source = {service: "content", ref: <id>}`. An event older than the mirrored
 * version is ignored, so out-of-order delivery cannot roll a schedule back.
 */
export async function mirrorContentSchedule(db: Db, schedule: ContentSchedule, now: Date): Promise<void> {
  const ref = String(schedule.id);
  const version = new Date(schedule.updated_at);
  const existing = await db.schedule.findUnique({
    where: { sourceService_sourceRef: { sourceService: CONTENT, sourceRef: ref } },
  });
  if (existing?.sourceVersion && existing.sourceVersion > version) {
    return;
  }
  const problem = cronProblem(schedule.cron_definition) ?? timezoneProblem(schedule.timezone);
  if (problem) {
    throw new NonRetryableError(`content schedule ${ref} cannot be mirrored: ${problem}`);
  }
  const timing = { cronDefinition: schedule.cron_definition, timezone: schedule.timezone };
  const unchanged =
    existing?.enabled &&
    existing.cronDefinition === timing.cronDefinition &&
    existing.timezone === timing.timezone &&
    existing.nextSendAt;
  const next = nextTimes({ ...timing, intervalDefinition: null, intervalAnchor: null }, now);
  await db.$transaction(async (tx) => {
    const created = existing
      ? null
      : await tx.schedule.create({
          data: {
            id: randomUUID(),
            ...timing,
            sourceService: CONTENT,
            sourceRef: ref,
            sourceVersion: version,
            ...next,
          },
        });
    if (created) {
      await announceAdded(tx, created);
      return;
    }
    await tx.schedule.update({
      where: { sourceService_sourceRef: { sourceService: CONTENT, sourceRef: ref } },
      data: {
        ...timing,
        intervalDefinition: null,
        intervalAnchor: null,
        enabled: true,
        sourceVersion: version,
        ...(unchanged ? {} : next),
      },
    });
  });
}

/** A deleted content schedule disables its mirror (run history is kept). */
export async function disableContentSchedule(db: Db, contentScheduleId: number): Promise<void> {
  await db.schedule.updateMany({
    where: { sourceService: CONTENT, sourceRef: String(contentScheduleId) },
    data: { enabled: false, ...NO_NEXT },
  });
}
