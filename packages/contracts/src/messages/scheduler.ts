import Type, { type Static } from "typebox";
import { IsoDateTime, Json, Nullable, Uuid } from "../common.ts";

/** What a schedule was made for, when another service owns it (a content schedule mirrored here). */
export const ScheduleSource = Type.Object({
  service: Type.String({ minLength: 1 }),
  ref: Type.String({ minLength: 1 }),
});
export type ScheduleSource = Static<typeof ScheduleSource>;

/** `schedule.fired`: one slot of one schedule, published exactly once (manual fires have their own slot). */
export const ScheduleFired = Type.Object({
  schedule_id: Uuid,
  slot: IsoDateTime,
  manual: Type.Boolean(),
  source: Nullable(ScheduleSource),
  payload: Json,
});
export type ScheduleFired = Static<typeof ScheduleFired>;
