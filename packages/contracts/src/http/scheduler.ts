// HTTP request and response schemas of the scheduler service.
import Type, { type Static } from "typebox";
import { Actor, Body, IsoDateTime, Json, ListQuery, Nullable, PatchBody, Uuid } from "../common.ts";
import { ScheduleSource } from "../messages/scheduler.ts";

export const CronDefinition = Type.String({ minLength: 9, maxLength: 500 });
export const TimeZone = Type.String({ minLength: 1, maxLength: 64 });

export const SchedulerSchedule = Type.Object({
  id: Uuid,
  cron_definition: Type.String(),
  timezone: Type.String(),
  enabled: Type.Boolean(),
  payload: Json,
  source: Nullable(ScheduleSource),
  next_send_at: Nullable(IsoDateTime),
  last_run: Nullable(IsoDateTime),
  created_at: IsoDateTime,
  created_by: Actor,
  updated_at: IsoDateTime,
  updated_by: Actor,
});
export type SchedulerSchedule = Static<typeof SchedulerSchedule>;

export const CreateSchedulerScheduleBody = Body({
  cron_definition: CronDefinition,
  timezone: Type.Optional(TimeZone),
  enabled: Type.Optional(Type.Boolean()),
  payload: Type.Optional(Json),
});
export type CreateSchedulerScheduleBody = Static<typeof CreateSchedulerScheduleBody>;

export const UpdateSchedulerScheduleBody = PatchBody(CreateSchedulerScheduleBody.properties);
export type UpdateSchedulerScheduleBody = Static<typeof UpdateSchedulerScheduleBody>;

export const SchedulerScheduleListQuery = Type.Object({
  ...ListQuery.properties,
  enabled: Type.Optional(Type.Boolean()),
});
export type SchedulerScheduleListQuery = Static<typeof SchedulerScheduleListQuery>;
