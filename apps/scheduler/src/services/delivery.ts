import { randomUUID } from "node:crypto";
import { enqueue, type MessageContext } from "@tidings/amqp";
import { type ScheduleDeliver, type SchedulerFailedTask, toSeedTime } from "@tidings/contracts";
import {
  found,
  type Lookup,
  type PageParams,
  type PostResult,
  pageSlice,
  postGuarded,
  UrlNotAllowedError,
  type UrlPolicy,
} from "@tidings/service-kit";
import type { Db } from "../db.ts";
import { type EndpointGuard, originOf } from "../endpoints.ts";
import { failedTaskNotFound } from "../errors.ts";
import type { ScheduleFailure } from "../generated/prisma/client.ts";

/** A failed POST: a connection error, a timeout, a non-2xx answer, or (`final`) an endpoint not allowed. */
export class DeliveryError extends Error {
  override name = "DeliveryError";
  constructor(
    message: string,
    /** Not worth retrying: recorded as a failure at once. */
    readonly final = false,
  ) {
    super(message);
  }
}

/**
 * POSTs the payload as JSON, with `Authorization: Token <t>` when the schedule has a token; 2xx is success.
 * With a `policy`, the endpoint and the address connected to must be allowed by its policy.
 */
export async function postPayload(
  endpoint: string,
  payload: unknown,
  authToken: string | null,
  timeoutSeconds: number,
  guard: { policy?: UrlPolicy; lookup?: Lookup },
): Promise<void> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (authToken) {
    headers.authorization = `Token ${authToken}`;
  }
  let res: PostResult;
  try {
    res = await postGuarded(endpoint, JSON.stringify(payload), {
      headers,
      timeoutMs: timeoutSeconds * 1000,
      ...guard,
    });
  } catch (err) {
    if (err instanceof UrlNotAllowedError) {
      throw new DeliveryError(`endpoint not allowed: ${err.message}`, true);
    }
    const e = err as NodeJS.ErrnoException;
    throw new DeliveryError(`connection error: ${e.code ?? e.message}`);
  }
  if ("timeout" in res) {
    throw new DeliveryError(`timeout: no answer within ${timeoutSeconds} s`);
  }
  if (res.status < 200 || res.status > 299) {
    throw new DeliveryError(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`);
  }
}

export interface DeliveryOptions {
  maxAttempts: number;
  now: () => Date;
  guard: EndpointGuard;
}

/**
 * Handles `schedule.deliver`. Success marks the run delivered and sets the schedule's `last_run`. A failure
 * throws (the queue retries it with growing, jittered delays) until the last attempt, where it is recorded
 * as a ScheduleFailure and the message is acknowledged instead of dead-lettered: the failure record is the
 * one place operators look at and requeue from (`POST /api/v1/failed-tasks/` resends with the schedule's
 * current data), so a dead-letter copy would only give a second, stale way to resend it. If writing the
 * record itself fails, that error propagates and the message is dead-lettered, so nothing is lost. An
 * endpoint a non-admin saved (or one the schedule no longer has) is POSTed to only if the guard allows it;
 * a refusal is recorded at once. The schedule's token goes only to its current endpoint's origin. A delivery
 * whose schedule was deleted, or forgotten (`forgotten_at`: a forget took a person out of it) since its slot
 * fired, is dropped: acknowledged without a POST or a failure record (its payload is the one the slot fired
 * with, the person's; a requeue would find it dropped again), the run left undelivered.
 */
export async function deliver(
  db: Db,
  command: ScheduleDeliver,
  ctx: Pick<MessageContext, "attempt" | "log">,
  { maxAttempts, now, guard }: DeliveryOptions,
): Promise<void> {
  const [schedule, run] = await Promise.all([
    db.schedule.findUnique({
      where: { id: command.schedule_id },
      select: { authToken: true, endpoint: true, endpointRestricted: true, forgottenAt: true },
    }),
    db.scheduleRun.findUnique({
      where: { id: command.run_id },
      select: { deliveredAt: true, firedAt: true },
    }),
  ]);
  if (!schedule) {
    ctx.log.info({ scheduleId: command.schedule_id }, "schedule deleted; delivery dropped");
    return;
  }
  if (schedule.forgottenAt && (!run || run.firedAt <= schedule.forgottenAt)) {
    ctx.log.info({ runId: command.run_id }, "schedule forgotten since the slot fired; delivery dropped");
    return;
  }
  if (run?.deliveredAt) {
    ctx.log.info({ runId: command.run_id }, "run already delivered; redelivery ignored");
    return;
  }
  const restricted = schedule.endpointRestricted || schedule.endpoint !== command.endpoint;
  // The token goes only to the origin it was given for: a slot fired before the endpoint moved to another origin
  // (and still being retried) is POSTed without the token that came with the new endpoint.
  const authToken = originOf(schedule.endpoint) === originOf(command.endpoint) ? schedule.authToken : null;
  try {
    await postPayload(command.endpoint, command.payload, authToken, command.timeout_seconds, {
      lookup: guard.lookup,
      policy: restricted ? guard.policy : undefined,
    });
  } catch (err) {
    if (!(err instanceof DeliveryError) || (ctx.attempt < maxAttempts && !err.final)) {
      throw err;
    }
    await db.scheduleFailure.upsert({
      where: { taskId: command.run_id },
      create: {
        id: randomUUID(),
        scheduleId: command.schedule_id,
        taskId: command.run_id,
        initiatedAt: new Date(command.slot),
        reason: err.message,
        attempts: ctx.attempt,
      },
      update: { reason: err.message, attempts: ctx.attempt, createdAt: now() },
    });
    ctx.log.warn({ err, runId: command.run_id }, "HTTP delivery failed for good; failure recorded");
    return;
  }
  const at = now();
  await db.$transaction([
    db.scheduleRun.updateMany({ where: { id: command.run_id }, data: { deliveredAt: at } }),
    db.schedule.update({ where: { id: command.schedule_id }, data: { lastRun: at } }),
  ]);
}

const toFailedTask = (row: ScheduleFailure): SchedulerFailedTask => ({
  id: row.id,
  schedule: row.scheduleId,
  task_id: row.taskId,
  initiated_at: toSeedTime(row.initiatedAt),
  reason: row.reason,
  attempts: row.attempts,
  created_at: toSeedTime(row.createdAt),
});

export async function listFailedTasks(
  db: Db,
  page: PageParams,
): Promise<{ count: number; results: SchedulerFailedTask[] }> {
  const [count, rows] = await db.$transaction([
    db.scheduleFailure.count(),
    db.scheduleFailure.findMany({ orderBy: [{ createdAt: "desc" }, { id: "desc" }], ...pageSlice(page) }),
  ]);
  return { count, results: rows.map(toFailedTask) };
}

export async function getFailedTask(db: Db, id: string): Promise<SchedulerFailedTask> {
  return toFailedTask(
    found(await db.scheduleFailure.findUnique({ where: { id } }), () => failedTaskNotFound(id)),
  );
}

const REQUEUE_BATCH = 200;

/**
 * Requeues every failed delivery with its schedule's current endpoint, payload, timeout (and token, read at
 * delivery) and deletes its failure record, each in one transaction with the new `schedule.deliver`. A
 * failure whose schedule no longer has an endpoint (it became an AMQP schedule) is deleted without a resend.
 * Returns how many deliveries were requeued.
 */
export async function requeueFailedTasks(db: Db): Promise<number> {
  let requeued = 0;
  for (;;) {
    const batch = await db.$transaction(async (tx) => {
      const failures = await tx.scheduleFailure.findMany({
        orderBy: { createdAt: "asc" },
        take: REQUEUE_BATCH,
        include: { schedule: true },
      });
      for (const failure of failures) {
        const { schedule } = failure;
        // A concurrent requeue that got here first: its delete wins, this one skips the failure.
        const { count } = await tx.scheduleFailure.deleteMany({ where: { id: failure.id } });
        if (count === 0 || !schedule.endpoint) {
          continue;
        }
        await enqueue(tx, {
          name: "schedule.deliver",
          messageId: randomUUID(),
          payload: {
            schedule_id: schedule.id,
            run_id: failure.taskId,
            slot: failure.initiatedAt.toISOString(),
            manual: false,
            endpoint: schedule.endpoint,
            payload: schedule.payload as ScheduleDeliver["payload"],
            timeout_seconds: schedule.timeoutSeconds,
          },
        });
        requeued++;
      }
      return failures.length;
    });
    if (batch < REQUEUE_BATCH) {
      return requeued;
    }
  }
}
