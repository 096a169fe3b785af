import { randomUUID } from "node:crypto";
import { NonRetryableError } from "@tidings/amqp";
import {
  type ContentSchedule,
  type CreateSchedulerScheduleBody,
  InvalidPayloadError,
  type ScheduleAdded,
  type ScheduleCatchUpPolicy,
  type SchedulerSchedule,
  type SchedulerScheduleListQuery,
  type SchedulerScheduleRun,
  type UpdateSchedulerScheduleBody,
} from "@tidings/contracts";
import { publish } from "@tidings/hooks";
import { ApiError, badRequest, type PageParams, type Principal } from "@tidings/service-kit";
import { cronProblem, timezoneProblem } from "../cron.ts";
import type { Db, Tx } from "../db.ts";
import { assertEndpointAllowed, type EndpointGuard } from "../endpoints.ts";
import type { Prisma, Schedule } from "../generated/prisma/client.ts";
import { parseInterval } from "../interval.ts";
import { toRun } from "../runs.ts";
import { isCommand, type Problem, targetProblems } from "../targets.ts";
import { type FireableSchedule, fireSlot, runIdOf } from "../ticker.ts";
import { nextTimes } from "../timing.ts";

export function toSchedule(row: Schedule): SchedulerSchedule {
  return {
    id: row.id,
    cron_definition: row.cronDefinition,
    interval_definition: row.intervalDefinition,
    timezone: row.timezone,
    catch_up: row.catchUp as ScheduleCatchUpPolicy,
    enabled: row.enabled,
    payload: row.payload as SchedulerSchedule["payload"],
    endpoint: row.endpoint,
    message: row.message,
    has_auth_token: row.authToken !== null,
    timeout_seconds: row.timeoutSeconds,
    source: row.sourceService && row.sourceRef ? { service: row.sourceService, ref: row.sourceRef } : null,
    next_send_at: row.nextSendAt?.toISOString() ?? null,
    last_run: row.lastRun?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
    created_by: row.createdBy,
    updated_at: row.updatedAt.toISOString(),
    updated_by: row.updatedBy,
  };
}

/** `schedule.added`: Seed's hook data, without the auth token. */
function toAdded(row: Schedule): ScheduleAdded {
  const s = toSchedule(row);
  return {
    id: s.id,
    cron_definition: s.cron_definition,
    interval_definition: s.interval_definition,
    timezone: s.timezone,
    catch_up: s.catch_up,
    enabled: s.enabled,
    endpoint: s.endpoint,
    message: s.message,
    payload: s.payload,
    source: s.source,
    next_send_at: s.next_send_at,
    created_at: s.created_at,
    updated_at: s.updated_at,
  };
}

export const toFireable = (row: Schedule): FireableSchedule => ({
  id: row.id,
  payload: row.payload as FireableSchedule["payload"],
  source_service: row.sourceService,
  source_ref: row.sourceRef,
  endpoint: row.endpoint,
  message: row.message,
  timeout_seconds: row.timeoutSeconds,
});

/** A new schedule, in the transaction that creates it: `schedule.added` on the broker and to hooks. */
async function announceAdded(tx: Tx, row: Schedule): Promise<void> {
  await publish(tx, { name: "schedule.added", messageId: row.id, payload: toAdded(row) });
}

interface TimingInput {
  cron: string | null;
  interval: string | null;
  timezone: string;
}

interface TargetInput {
  endpoint: string | null;
  message: string | null;
  payload: unknown;
}

/**
 * Every problem with a schedule's timing and target, each naming its field; a 400 when there is any. The
 * payload of an AMQP message is checked with the tokens substituted as a slot fired `now` would have them.
 */
function assertValidSchedule(
  { cron, interval, timezone }: TimingInput,
  target: TargetInput,
  scheduleId: string,
  now: Date,
): void {
  const problems: Problem[] = targetProblems(target, {
    slot: now.toISOString(),
    schedule_id: scheduleId,
    run_id: runIdOf(scheduleId, now),
  });
  const tz = timezoneProblem(timezone);
  if (tz) {
    problems.push({ field: "body.timezone", message: tz });
  }
  if (cron !== null) {
    const problem = cronProblem(cron);
    if (problem) {
      problems.push({ field: "body.cron_definition", message: problem });
    }
  }
  if (interval !== null) {
    const parsed = parseInterval(interval);
    if ("problem" in parsed) {
      problems.push({ field: "body.interval_definition", message: parsed.problem });
    }
  }
  if (cron === null && interval === null) {
    problems.push({
      field: "body.cron_definition",
      message: "a schedule needs a cron_definition or an interval_definition (or both)",
    });
  }
  const first = problems[0];
  if (first) {
    throw badRequest("SCHEDULER_INVALID_SCHEDULE", problems.map((p) => p.message).join("; "), problems);
  }
}

/** Who saves a schedule: the API user (null for the bootstrap admin token) and whether it is an admin. */
export type Actor = Pick<Principal, "userId" | "isAdmin">;

/**
 * A schedule publishing a command (`outbound.send`, ...) does the work of the service it asks, bypassing
 * that service's own checks (key kinds, allow-lists, limits), so only admins may create, change or fire one.
 */
function assertMayPublish(actor: Actor, ...messages: (string | null)[]): void {
  const command = messages.find(isCommand);
  if (command && !actor.isAdmin) {
    throw new ApiError(
      403,
      "FORBIDDEN",
      `Only an admin token may create, change or fire a schedule that publishes the command ${command}.`,
      [{ field: "body.message", message: "a schedule publishing a command needs an admin token" }],
    );
  }
}

/** A disabled schedule has no pending slot: `next_send_at` is null until it is enabled again. */
const NO_NEXT = { nextCronAt: null, nextIntervalAt: null, nextSendAt: null } as const;

const normalise = (value: string | null | undefined) => {
  const trimmed = value?.trim().replace(/\s+/g, " ");
  return trimmed ? trimmed : null;
};

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
  const next = enabled
    ? nextTimes(
        {
          cronDefinition: timing.cron,
          intervalDefinition: timing.interval,
          intervalAnchor: anchor,
          timezone: timing.timezone,
        },
        now,
      )
    : NO_NEXT;
  const row = await db.$transaction(async (tx) => {
    const created = await tx.schedule.create({
      data: {
        id,
        cronDefinition: timing.cron,
        intervalDefinition: timing.interval,
        intervalAnchor: anchor,
        timezone: timing.timezone,
        catchUp: input.catch_up ?? "latest",
        enabled,
        payload: target.payload as Prisma.InputJsonObject,
        endpoint: target.endpoint,
        message: target.message,
        authToken: input.auth_token ?? null,
        timeoutSeconds: input.timeout_seconds ?? 30,
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
): Promise<SchedulerSchedule | null> {
  const userId = actor.userId;
  const current = await db.schedule.findUnique({ where: { id } });
  if (!current) {
    return null;
  }
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
  // Whoever saves a schedule last answers for its endpoint: a non-admin's save restricts it.
  await assertEndpointAllowed(guard, endpoint, actor);
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
      ? nextTimes(
          {
            cronDefinition: timing.cron,
            intervalDefinition: timing.interval,
            intervalAnchor: anchor,
            timezone: timing.timezone,
          },
          now,
        )
      : {};
  const row = await db.schedule.update({
    where: { id },
    data: {
      cronDefinition: timing.cron,
      intervalDefinition: timing.interval,
      intervalAnchor: anchor,
      timezone: timing.timezone,
      catchUp: input.catch_up,
      enabled: input.enabled,
      payload: input.payload as Prisma.InputJsonObject | undefined,
      endpoint: input.endpoint,
      message: input.message,
      authToken: input.auth_token,
      timeoutSeconds: input.timeout_seconds,
      endpointRestricted: !actor.isAdmin,
      ...next,
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

/** A schedule's run history, newest first; null for an unknown schedule. */
export async function listRuns(
  db: Db,
  id: string,
  page: PageParams,
): Promise<{ count: number; results: SchedulerScheduleRun[] } | null> {
  const [schedule, count, rows] = await db.$transaction([
    db.schedule.findUnique({ where: { id }, select: { id: true } }),
    db.scheduleRun.count({ where: { scheduleId: id } }),
    db.scheduleRun.findMany({
      where: { scheduleId: id },
      orderBy: [{ firedAt: "desc" }, { slot: "desc" }],
      skip: page.offset,
      take: page.limit,
    }),
  ]);
  return schedule && { count, results: rows.map(toRun) };
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

/** Deletes a schedule with its runs and failures; false for an unknown schedule. */
export async function deleteSchedule(db: Db, id: string): Promise<boolean> {
  const { count } = await db.schedule.deleteMany({ where: { id } });
  return count === 1;
}

/** Fires one slot now, outside the cron (recorded as manual); null for an unknown schedule. */
export async function fireNow(db: Db, id: string, actor: Actor, now: Date): Promise<{ slot: string } | null> {
  return db.$transaction(async (tx) => {
    const schedule = await tx.schedule.findUnique({ where: { id } });
    if (!schedule) {
      return null;
    }
    assertMayPublish(actor, schedule.message);
    try {
      await fireSlot(tx, toFireable(schedule), now, "manual");
    } catch (err) {
      if (err instanceof InvalidPayloadError) {
        throw new ApiError(422, "SCHEDULER_PAYLOAD_INVALID", err.message);
      }
      throw err;
    }
    if (!schedule.endpoint) {
      await tx.schedule.update({ where: { id }, data: { lastRun: now } });
    }
    return { slot: now.toISOString() };
  });
}
