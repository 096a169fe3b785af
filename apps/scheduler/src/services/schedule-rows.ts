import {
  type ScheduleAdded,
  type ScheduleCatchUpPolicy,
  type SchedulerSchedule,
  toSeedTime,
} from "@tidings/contracts";
import { publish } from "@tidings/hooks";
import type { Tx } from "../db.ts";
import type { Schedule } from "../generated/prisma/client.ts";
import type { FireableSchedule } from "../ticker.ts";

/** The service that owns a schedule and its id there (a mirrored content schedule); null for the API's own. */
export const ownerOf = (row: Pick<Schedule, "sourceService" | "sourceRef">): SchedulerSchedule["source"] =>
  row.sourceService && row.sourceRef ? { service: row.sourceService, ref: row.sourceRef } : null;

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
    source: ownerOf(row),
    next_send_at: toSeedTime(row.nextSendAt),
    last_run: toSeedTime(row.lastRun),
    frequency: row.frequency,
    triggered: row.triggered,
    created_at: toSeedTime(row.createdAt),
    created_by: row.createdBy,
    updated_at: toSeedTime(row.updatedAt),
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
    frequency: s.frequency,
    triggered: s.triggered,
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
export async function announceAdded(tx: Tx, row: Schedule): Promise<void> {
  await publish(tx, { name: "schedule.added", messageId: row.id, payload: toAdded(row) });
}

/** A disabled schedule has no pending slot: `next_send_at` is null until it is enabled again. */
export const NO_NEXT = { nextCronAt: null, nextIntervalAt: null, nextSendAt: null } as const;
