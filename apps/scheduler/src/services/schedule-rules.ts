import { cronProblem, timezoneProblem } from "@tidings/contracts/cron";
import type { FieldProblem, Principal } from "@tidings/service-kit";
import { commandNeedsAdmin, invalidSchedule, mirroredFireNeedsAdmin, scheduleMirrored } from "../errors.ts";
import type { Schedule } from "../generated/prisma/client.ts";
import { parseInterval } from "../interval.ts";
import { isCommand, targetProblems } from "../targets.ts";
import { runIdOf } from "../ticker.ts";
import { ownerOf } from "./schedule-rows.ts";

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
export function assertValidSchedule(
  { cron, interval, timezone }: TimingInput,
  target: TargetInput,
  scheduleId: string,
  now: Date,
): void {
  const problems: FieldProblem[] = targetProblems(target, {
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
  if (problems.length > 0) {
    throw invalidSchedule(problems);
  }
}

/** Who saves a schedule: the API user (null for the bootstrap admin token) and whether it is an admin. */
export type Actor = Pick<Principal, "userId" | "isAdmin">;

/**
 * A schedule publishing a command (`outbound.send`, ...) does the work of the service it asks, bypassing
 * that service's own checks (key kinds, allow-lists, limits), so only admins may create, change or fire one.
 */
export function assertMayPublish(actor: Actor, ...messages: (string | null)[]): void {
  const command = messages.find(isCommand);
  if (command && !actor.isAdmin) {
    throw commandNeedsAdmin(command);
  }
}

/** A cron or interval definition with its blanks collapsed; null when it is empty. */
export const normalise = (value: string | null | undefined) => {
  const trimmed = value?.trim().replace(/\s+/g, " ");
  return trimmed ? trimmed : null;
};

/**
 * A mirrored schedule follows its owner's events (content-mirror.ts): the API may not change or delete it (409), or
 * a hub's PATCH would outlive the owner's next change, and an endpoint or a cron of its own would send a programme's
 * messages to its subscribers at times the programme does not have.
 */
export function assertNotMirrored(row: Pick<Schedule, "id" | "sourceService" | "sourceRef">) {
  const owner = ownerOf(row);
  if (owner) {
    throw scheduleMirrored(row.id, owner);
  }
}

/** Firing a mirrored schedule sends the programme's next message to all its subscribers: admins only. */
export function assertMayFire(actor: Actor, row: Pick<Schedule, "message" | "sourceService" | "sourceRef">) {
  assertMayPublish(actor, row.message);
  const owner = ownerOf(row);
  if (owner && !actor.isAdmin) {
    throw mirroredFireNeedsAdmin(owner);
  }
}
