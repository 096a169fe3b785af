import { randomUUID } from "node:crypto";
import {
  type CreateSchedulerScheduleBody,
  InvalidPayloadError,
  type SchedulerSchedule,
  type SchedulerScheduleListQuery,
  type SchedulerScheduleRun,
  toSeedTime,
  type UpdateSchedulerScheduleBody,
} from "@tidings/contracts";
import { found, type PageParams, pageSlice } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import { assertEndpointAllowed, type EndpointGuard, originOf } from "../endpoints.ts";
import { payloadInvalid, scheduleNotFound } from "../errors.ts";
import type { Prisma } from "../generated/prisma/client.ts";
import { toRun } from "../runs.ts";
import { fireSlot } from "../ticker.ts";
import { nextTimes } from "../timing.ts";
import { announceAdded, NO_NEXT, toFireable, toSchedule } from "./schedule-rows.ts";
import {
  type Actor,
  assertMayFire,
  assertMayPublish,
  assertNotMirrored,
  assertValidSchedule,
  normalise,
} from "./schedule-rules.ts";

/** A schedule's timing as its columns (and as `nextTimes` reads them). */
const timingColumns = (
  timing: { cron: string | null; interval: string | null; timezone: string },
  anchor: Date | null,
) => ({
  cronDefinition: timing.cron,
  intervalDefinition: timing.interval,
  intervalAnchor: anchor,
  timezone: timing.timezone,
});

export async function createSchedule(
  db: Db,
  input: CreateSchedulerScheduleBody,
  actor: Actor,
  now: Date,
  guard: EndpointGuard,
): Promise<SchedulerSchedule> {
  const userId = actor.userId;
  assertMayPublish(actor, input.message ?? null);
  const timing = {
    cron: normalise(input.cron_definition),
    interval: normalise(input.interval_definition),
    timezone: input.timezone ?? "UTC",
  };
  const id = randomUUID();
  const target = {
    endpoint: input.endpoint ?? null,
    message: input.message ?? null,
    payload: input.payload ?? {},
  };
  assertValidSchedule(timing, target, id, now);
  await assertEndpointAllowed(guard, target.endpoint, actor);
  const anchor = timing.interval ? now : null;
  const enabled = input.enabled ?? true;
  const next = enabled ? nextTimes(timingColumns(timing, anchor), now) : NO_NEXT;
  const row = await db.$transaction(async (tx) => {
    const created = await tx.schedule.create({
      data: {
        id,
        ...timingColumns(timing, anchor),
        catchUp: input.catch_up ?? "latest",
        enabled,
        payload: target.payload as Prisma.InputJsonObject,
        endpoint: target.endpoint,
        message: target.message,
        authToken: input.auth_token ?? null,
        timeoutSeconds: input.timeout_seconds ?? 30,
        frequency: input.frequency ?? null,
        triggered: input.triggered ?? 0,
        endpointRestricted: !actor.isAdmin,
        ...next,
        createdBy: userId,
        updatedBy: userId,
      },
    });
    await announceAdded(tx, created);
    return created;
  });
  return toSchedule(row);
}

/**
 * A changed cron, interval or time zone takes effect from now: the next slots are recomputed (Seed never
 * did); a new interval counts from now. Re-enabling a schedule also starts it from now: slots that came
 * while it was disabled are not caught up.
 */
export async function updateSchedule(
  db: Db,
  id: string,
  input: UpdateSchedulerScheduleBody,
  actor: Actor,
  now: Date,
  guard: EndpointGuard,
): Promise<SchedulerSchedule> {
  const userId = actor.userId;
  const current = await db.schedule.findUnique({ where: { id } });
  if (!current) {
    throw scheduleNotFound(id);
  }
  assertNotMirrored(current);
  assertMayPublish(actor, current.message, input.message === undefined ? null : input.message);
  const timing = {
    cron: input.cron_definition === undefined ? current.cronDefinition : normalise(input.cron_definition),
    interval:
      input.interval_definition === undefined
        ? current.intervalDefinition
        : normalise(input.interval_definition),
    timezone: input.timezone ?? current.timezone,
  };
  const endpoint = input.endpoint === undefined ? current.endpoint : input.endpoint;
  assertValidSchedule(
    timing,
    {
      endpoint,
      message: input.message === undefined ? current.message : input.message,
      payload: input.payload ?? current.payload,
    },
    id,
    now,
  );
  // A non-admin's save restricts the endpoint (sent only where the guard allows); an admin's lifts the restriction
  // only by setting the endpoint itself: an admin disabling a hub's schedule does not vouch for its endpoint.
  await assertEndpointAllowed(guard, endpoint, actor);
  const endpointRestricted = !actor.isAdmin || (input.endpoint === undefined && current.endpointRestricted);
  // The stored token was given for the endpoint's origin: a PATCH moving the endpoint to another origin (or
  // removing it) drops the token, unless the same request gives one. Otherwise whoever may change the endpoint
  // (any token, within SCHEDULER_HTTP_ALLOWED_HOSTS) would have someone else's token sent to a host of theirs.
  const movesOrigin = input.endpoint !== undefined && originOf(input.endpoint) !== originOf(current.endpoint);
  const authToken = input.auth_token === undefined && movesOrigin ? null : input.auth_token;
  const intervalChanged = timing.interval !== current.intervalDefinition;
  const anchor = timing.interval
    ? intervalChanged || !current.intervalAnchor
      ? now
      : current.intervalAnchor
    : null;
  const enabled = input.enabled ?? current.enabled;
  const reenabled = enabled && !current.enabled;
  const timingChanged =
    timing.cron !== current.cronDefinition || intervalChanged || timing.timezone !== current.timezone;
  const next = !enabled
    ? NO_NEXT
    : timingChanged || reenabled || !current.nextSendAt
      ? nextTimes(timingColumns(timing, anchor), now)
      : {};
  const row = await db.schedule.update({
    where: { id },
    data: {
      ...timingColumns(timing, anchor),
      catchUp: input.catch_up,
      enabled: input.enabled,
      payload: input.payload as Prisma.InputJsonObject | undefined,
      endpoint: input.endpoint,
      message: input.message,
      authToken,
      timeoutSeconds: input.timeout_seconds,
      frequency: input.frequency,
      triggered: input.triggered,
      endpointRestricted,
      ...next,
      updatedBy: userId,
    },
  });
  return toSchedule(row);
}

export async function getSchedule(db: Db, id: string): Promise<SchedulerSchedule> {
  return toSchedule(found(await db.schedule.findUnique({ where: { id } }), () => scheduleNotFound(id)));
}

export async function listSchedules(
  db: Db,
  query: SchedulerScheduleListQuery,
  page: PageParams,
): Promise<{ count: number; results: SchedulerSchedule[] }> {
  const where: Prisma.ScheduleWhereInput = { enabled: query.enabled };
  const [count, rows] = await db.$transaction([
    db.schedule.count({ where }),
    db.schedule.findMany({ where, orderBy: [{ createdAt: "desc" }, { id: "desc" }], ...pageSlice(page) }),
  ]);
  return { count, results: rows.map(toSchedule) };
}

/** A schedule's run history, newest first; 404 for an unknown schedule. */
export async function listRuns(
  db: Db,
  id: string,
  page: PageParams,
): Promise<{ count: number; results: SchedulerScheduleRun[] }> {
  const [schedule, count, rows] = await db.$transaction([
    db.schedule.findUnique({ where: { id }, select: { id: true } }),
    db.scheduleRun.count({ where: { scheduleId: id } }),
    db.scheduleRun.findMany({
      where: { scheduleId: id },
      orderBy: [{ firedAt: "desc" }, { slot: "desc" }],
      ...pageSlice(page),
    }),
  ]);
  if (!schedule) {
    throw scheduleNotFound(id);
  }
  return { count, results: rows.map(toRun) };
}

/** Deletes a schedule with its runs and failures; 404 for an unknown schedule, 409 for a mirrored one. */
export async function deleteSchedule(db: Db, id: string): Promise<void> {
  const { count } = await db.schedule.deleteMany({ where: { id, sourceService: null } });
  if (count !== 1) {
    const row = await db.schedule.findUnique({ where: { id } });
    if (row) {
      assertNotMirrored(row);
    }
    throw scheduleNotFound(id);
  }
}

/** Fires one slot now, outside the cron (recorded as manual); 404 for an unknown schedule. */
export async function fireNow(db: Db, id: string, actor: Actor, now: Date): Promise<{ slot: string }> {
  return db.$transaction(async (tx) => {
    const schedule = await tx.schedule.findUnique({ where: { id } });
    if (!schedule) {
      throw scheduleNotFound(id);
    }
    assertMayFire(actor, schedule);
    try {
      await fireSlot(tx, toFireable(schedule), now, "manual");
    } catch (err) {
      if (err instanceof InvalidPayloadError) {
        throw payloadInvalid(err.message);
      }
      throw err;
    }
    if (!schedule.endpoint) {
      await tx.schedule.update({ where: { id }, data: { lastRun: now } });
    }
    return { slot: toSeedTime(now) };
  });
}
