import { randomUUID } from "node:crypto";
import { NonRetryableError } from "@tidings/amqp";
import type {
  ContentSchedule,
  CreateSchedulerScheduleBody,
  SchedulerSchedule,
  SchedulerScheduleListQuery,
  UpdateSchedulerScheduleBody,
} from "@tidings/contracts";
import { badRequest, type PageParams } from "@tidings/service-kit";
import { cronProblem, nextSlot } from "../cron.ts";
import type { Db } from "../db.ts";
import type { Prisma, Schedule } from "../generated/prisma/client.ts";
import { type FireableSchedule, fireSlot } from "../ticker.ts";

export function toSchedule(row: Schedule): SchedulerSchedule {
  return {
    id: row.id,
    cron_definition: row.cronDefinition,
    timezone: row.timezone,
    enabled: row.enabled,
    payload: row.payload as SchedulerSchedule["payload"],
    source: row.sourceService && row.sourceRef ? { service: row.sourceService, ref: row.sourceRef } : null,
    next_send_at: row.nextSendAt?.toISOString() ?? null,
    last_run: row.lastRun?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
    created_by: row.createdBy,
    updated_at: row.updatedAt.toISOString(),
    updated_by: row.updatedBy,
  };
}

function assertValidCron(cron: string, timezone: string): void {
  const problem = cronProblem(cron, timezone);
  if (problem) {
    const field = problem.includes("time zone") ? "timezone" : "cron_definition";
    throw badRequest("SCHEDULER_INVALID_SCHEDULE", problem, [{ field: `body.${field}`, message: problem }]);
  }
}

export async function createSchedule(
  db: Db,
  input: CreateSchedulerScheduleBody,
  userId: number | null,
  now: Date,
): Promise<SchedulerSchedule> {
  const timezone = input.timezone ?? "UTC";
  assertValidCron(input.cron_definition, timezone);
  const row = await db.schedule.create({
    data: {
      id: randomUUID(),
      cronDefinition: input.cron_definition.trim(),
      timezone,
      enabled: input.enabled ?? true,
      payload: (input.payload ?? {}) as Prisma.InputJsonObject,
      nextSendAt: nextSlot(input.cron_definition, timezone, now),
      createdBy: userId,
      updatedBy: userId,
    },
  });
  return toSchedule(row);
}

/** A changed cron or time zone takes effect from now: the next slot is recomputed (Seed never did). */
export async function updateSchedule(
  db: Db,
  id: string,
  input: UpdateSchedulerScheduleBody,
  userId: number | null,
  now: Date,
): Promise<SchedulerSchedule | null> {
  const current = await db.schedule.findUnique({ where: { id } });
  if (!current) {
    return null;
  }
  const cron = input.cron_definition?.trim() ?? current.cronDefinition;
  const timezone = input.timezone ?? current.timezone;
  assertValidCron(cron, timezone);
  const timingChanged = cron !== current.cronDefinition || timezone !== current.timezone;
  const row = await db.schedule.update({
    where: { id },
    data: {
      cronDefinition: cron,
      timezone,
      enabled: input.enabled,
      payload: input.payload as Prisma.InputJsonObject | undefined,
      nextSendAt: timingChanged || !current.nextSendAt ? nextSlot(cron, timezone, now) : undefined,
      updatedBy: userId,
    },
  });
  return toSchedule(row);
}

export async function getSchedule(db: Db, id: string): Promise<SchedulerSchedule | null> {
  const row = await db.schedule.findUnique({ where: { id } });
  return row && toSchedule(row);
}

export async function listSchedules(
  db: Db,
  query: SchedulerScheduleListQuery,
  page: PageParams,
): Promise<{ count: number; results: SchedulerSchedule[] }> {
  const where: Prisma.ScheduleWhereInput = { enabled: query.enabled };
  const [count, rows] = await db.$transaction([
    db.schedule.count({ where }),
    db.schedule.findMany({
      where,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      skip: page.offset,
      take: page.limit,
    }),
  ]);
  return { count, results: rows.map(toSchedule) };
}

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
  const problem = cronProblem(schedule.cron_definition, schedule.timezone);
  if (problem) {
    throw new NonRetryableError(`content schedule ${ref} cannot be mirrored: ${problem}`);
  }
  const timing = { cronDefinition: schedule.cron_definition, timezone: schedule.timezone };
  const unchanged =
    existing?.enabled &&
    existing.cronDefinition === timing.cronDefinition &&
    existing.timezone === timing.timezone &&
    existing.nextSendAt;
  await db.schedule.upsert({
    where: { sourceService_sourceRef: { sourceService: CONTENT, sourceRef: ref } },
    create: {
      id: randomUUID(),
      ...timing,
      sourceService: CONTENT,
      sourceRef: ref,
      sourceVersion: version,
      nextSendAt: nextSlot(timing.cronDefinition, timing.timezone, now),
    },
    update: {
      ...timing,
      enabled: true,
      sourceVersion: version,
      nextSendAt: unchanged ? undefined : nextSlot(timing.cronDefinition, timing.timezone, now),
    },
  });
}

/** A deleted content schedule disables its mirror (run history is kept). */
export async function disableContentSchedule(db: Db, contentScheduleId: number): Promise<void> {
  await db.schedule.updateMany({
    where: { sourceService: CONTENT, sourceRef: String(contentScheduleId) },
    data: { enabled: false },
  });
}

/** Fires one slot now, outside the cron (recorded as manual); null for an unknown schedule. */
export async function fireNow(db: Db, id: string, now: Date): Promise<{ slot: string } | null> {
  return db.$transaction(async (tx) => {
    const schedule = await tx.schedule.findUnique({ where: { id } });
    if (!schedule) {
      return null;
    }
    await fireSlot(
      tx,
      {
        id: schedule.id,
        payload: schedule.payload as FireableSchedule["payload"],
        source_service: schedule.sourceService,
        source_ref: schedule.sourceRef,
      },
      now,
      true,
    );
    await tx.schedule.update({ where: { id }, data: { lastRun: now } });
    return { slot: now.toISOString() };
  });
}
