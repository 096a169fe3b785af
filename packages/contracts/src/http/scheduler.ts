// HTTP request and response schemas of the scheduler service.
import Type, { type Static } from "typebox";
import { Body, IsoDateTime, Json, Nullable, PatchBody, Uuid } from "../common.ts";
import { auditFields, listQuery } from "../fields.ts";
import { ScheduleCatchUpPolicy, ScheduleSource } from "../messages/scheduler.ts";

export const CronDefinition = Type.String({ minLength: 9, maxLength: 500 });
/** `"<n> days|hours|minutes|seconds"`. */
export const IntervalDefinition = Type.String({ minLength: 3, maxLength: 100 });
export const TimeZone = Type.String({ minLength: 1, maxLength: 64 });
export const ScheduleEndpoint = Type.String({ format: "uri", pattern: "^https?://", maxLength: 500 });
/**
 * A command from the contracts catalog for an AMQP target (see the scheduler README for which); `payload`
 * must then be valid for it once `{{slot}}`, `{{schedule_id}}` and `{{run_id}}` are substituted.
 */
export const ScheduleMessage = Type.String({ minLength: 1, maxLength: 100 });

/** Seed's deprecated `frequency` and `triggered` (a Django IntegerField: a 32-bit signed integer). */
const SeedCounter = Type.Integer({ minimum: -2147483648, maximum: 2147483647 });

export const SchedulerSchedule = Type.Object({
  id: Uuid,
  cron_definition: Nullable(Type.String()),
  interval_definition: Nullable(Type.String()),
  timezone: Type.String(),
  catch_up: ScheduleCatchUpPolicy,
  enabled: Type.Boolean(),
  payload: Json,
  /** The HTTP target; null for an AMQP target. */
  endpoint: Nullable(Type.String()),
  /** AMQP targets: the catalogued command published each slot; null for `schedule.fired`. */
  message: Nullable(Type.String()),
  /** Whether an auth token is set; the token itself is never returned. */
  has_auth_token: Type.Boolean(),
  timeout_seconds: Type.Integer(),
  source: Nullable(ScheduleSource),
  next_send_at: Nullable(IsoDateTime),
  last_run: Nullable(IsoDateTime),
  /** Seed's deprecated run count wanted: stored and returned, not enforced. */
  frequency: Nullable(Type.Integer()),
  /** Seed's deprecated run counter: stored and returned, never incremented. */
  triggered: Type.Integer(),
  ...auditFields,
});
export type SchedulerSchedule = Static<typeof SchedulerSchedule>;

export const CreateSchedulerScheduleBody = Body({
  cron_definition: Type.Optional(Nullable(CronDefinition)),
  interval_definition: Type.Optional(Nullable(IntervalDefinition)),
  timezone: Type.Optional(TimeZone),
  catch_up: Type.Optional(ScheduleCatchUpPolicy),
  enabled: Type.Optional(Type.Boolean()),
  payload: Type.Optional(Json),
  endpoint: Type.Optional(Nullable(ScheduleEndpoint)),
  message: Type.Optional(Nullable(ScheduleMessage)),
  auth_token: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 500 }))),
  timeout_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 300 })),
  frequency: Type.Optional(Nullable(SeedCounter)),
  triggered: Type.Optional(SeedCounter),
});
export type CreateSchedulerScheduleBody = Static<typeof CreateSchedulerScheduleBody>;

export const UpdateSchedulerScheduleBody = PatchBody(CreateSchedulerScheduleBody.properties);
export type UpdateSchedulerScheduleBody = Static<typeof UpdateSchedulerScheduleBody>;

export const SchedulerScheduleListQuery = listQuery({
  enabled: Type.Optional(Type.Boolean()),
});
export type SchedulerScheduleListQuery = Static<typeof SchedulerScheduleListQuery>;

/** One fired slot of a schedule. */
export const SchedulerScheduleRun = Type.Object({
  id: Uuid,
  schedule: Uuid,
  slot: IsoDateTime,
  /** cron | interval | manual */
  trigger: Type.String(),
  manual: Type.Boolean(),
  fired_at: IsoDateTime,
  /** HTTP targets: when the POST succeeded (null while pending or failed). */
  delivered_at: Nullable(IsoDateTime),
});
export type SchedulerScheduleRun = Static<typeof SchedulerScheduleRun>;

/** Seed's ScheduleFailure: an HTTP delivery that failed on its last attempt. */
export const SchedulerFailedTask = Type.Object({
  id: Uuid,
  schedule: Uuid,
  task_id: Uuid,
  initiated_at: IsoDateTime,
  reason: Type.String(),
  attempts: Type.Integer(),
  created_at: IsoDateTime,
});
export type SchedulerFailedTask = Static<typeof SchedulerFailedTask>;

export const RequeuedFailedTasks = Type.Object({ requeued_failed_tasks: Type.Boolean() });
export type RequeuedFailedTasks = Static<typeof RequeuedFailedTasks>;

/** A slot fired now (`POST /api/v1/schedule/{id}/fire/`). */
export const FiredSlot = Type.Object({ slot: Type.String({ format: "date-time" }) });
