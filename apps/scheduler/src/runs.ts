import { type SchedulerScheduleRun, toSeedTime } from "@tidings/contracts";
import type { ScheduleRun } from "./generated/prisma/client.ts";

/** A run as the API (`GET /api/v1/schedule/{id}/runs/`) and the `schedule.fired` hook show it. */
export const toRun = (row: ScheduleRun): SchedulerScheduleRun => ({
  id: row.id,
  schedule: row.scheduleId,
  slot: toSeedTime(row.slot),
  trigger: row.trigger,
  manual: row.manual,
  fired_at: toSeedTime(row.firedAt),
  delivered_at: toSeedTime(row.deliveredAt),
});
