/** The scheduler's API errors: services throw them, the shared error handler renders them. */
import { ApiError, badRequest, conflict, type FieldProblem, notFound } from "@tidings/service-kit";

export const scheduleNotFound = (id: string) =>
  notFound("SCHEDULER_SCHEDULE_NOT_FOUND", `Schedule ${id} not found`);

export const failedTaskNotFound = (id: string) =>
  notFound("SCHEDULER_FAILED_TASK_NOT_FOUND", `Failed task ${id} not found`);

export const invalidSchedule = (problems: FieldProblem[]) =>
  badRequest("SCHEDULER_INVALID_SCHEDULE", problems.map((p) => p.message).join("; "), problems);

export const payloadInvalid = (message: string) => new ApiError(422, "SCHEDULER_PAYLOAD_INVALID", message);

export const endpointNotAllowed = (problem: string) =>
  new ApiError(
    403,
    "SCHEDULER_ENDPOINT_NOT_ALLOWED",
    `This token may only use endpoints allowed by SCHEDULER_HTTP_ALLOWED_HOSTS: ${problem}`,
    [{ field: "body.endpoint", message: problem }],
  );

export const commandNeedsAdmin = (command: string) =>
  new ApiError(
    403,
    "FORBIDDEN",
    `Only an admin token may create, change or fire a schedule that publishes the command ${command}.`,
    [{ field: "body.message", message: "a schedule publishing a command needs an admin token" }],
  );

/** A mirrored schedule's owner: the service and its id there (`source`). */
interface Owner {
  service: string;
  ref: string;
}

export const scheduleMirrored = (id: string, owner: Owner) =>
  conflict(
    "SCHEDULER_SCHEDULE_MIRRORED",
    `Schedule ${id} mirrors ${owner.service} schedule ${owner.ref} and follows it: change or delete it through the ${owner.service} service (/api/v1/schedule/${owner.ref}/).`,
  );

export const mirroredFireNeedsAdmin = (owner: Owner) =>
  new ApiError(
    403,
    "FORBIDDEN",
    `Only an admin token may fire a schedule mirrored from ${owner.service} schedule ${owner.ref}: its slot sends to every subscription on that schedule.`,
  );
