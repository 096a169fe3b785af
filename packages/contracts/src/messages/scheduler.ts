import Type, { type Static } from "typebox";
import { IsoDateTime, Json, literals, Nullable, Uuid } from "../common.ts";
import { timestampFields } from "../fields.ts";

/** What a schedule was made for, when another service owns it (a content schedule mirrored here). */
export const ScheduleSource = Type.Object({
  service: Type.String({ minLength: 1 }),
  ref: Type.String({ minLength: 1 }),
});
export type ScheduleSource = Static<typeof ScheduleSource>;

/** What happens to slots missed while no scheduler ran: skipped, the latest fired, or all (bounded). */
export const ScheduleCatchUpPolicy = literals("none", "latest", "all");
export type ScheduleCatchUpPolicy = Static<typeof ScheduleCatchUpPolicy>;

/** `schedule.fired`: one slot of one schedule, published exactly once (manual fires have their own slot). */
export const ScheduleFired = Type.Object({
  schedule_id: Uuid,
  slot: IsoDateTime,
  manual: Type.Boolean(),
  source: Nullable(ScheduleSource),
  payload: Json,
});
export type ScheduleFired = Static<typeof ScheduleFired>;

/**
 * `schedule.deliver`: POST one slot of an HTTP schedule. Carries the endpoint and payload as they were when
 * the slot fired; never the auth token (the scheduler worker reads it from its database).
 */
export const ScheduleDeliver = Type.Object({
  schedule_id: Uuid,
  /** The run (Seed's task id) this delivery is for. */
  run_id: Uuid,
  slot: IsoDateTime,
  manual: Type.Boolean(),
  endpoint: Type.String({ minLength: 1 }),
  payload: Json,
  timeout_seconds: Type.Integer({ minimum: 1 }),
});
export type ScheduleDeliver = Static<typeof ScheduleDeliver>;

/** `schedule.added`: a schedule was created (Seed's hook data; the auth token is never included). */
export const ScheduleAdded = Type.Object({
  id: Uuid,
  cron_definition: Nullable(Type.String()),
  interval_definition: Nullable(Type.String()),
  timezone: Type.String(),
  catch_up: ScheduleCatchUpPolicy,
  enabled: Type.Boolean(),
  endpoint: Nullable(Type.String()),
  message: Nullable(Type.String()),
  payload: Json,
  source: Nullable(ScheduleSource),
  next_send_at: Nullable(IsoDateTime),
  /** Seed's deprecated `frequency` and `triggered`, as stored (optional: added after the first version). */
  frequency: Type.Optional(Nullable(Type.Integer())),
  triggered: Type.Optional(Type.Integer()),
  ...timestampFields,
});
export type ScheduleAdded = Static<typeof ScheduleAdded>;
