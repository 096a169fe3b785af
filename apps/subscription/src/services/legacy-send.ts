import { isUuid } from "@tidings/contracts";
import type { Logger } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import { seedSubscriptionNotFound } from "../errors.ts";

/** The scheduler API a legacy send's old schedule is disabled through (SCHEDULER_URL, SCHEDULER_TOKEN). */
export interface SchedulerApi {
  url: string;
  /** Unset: no token to disable it with (the old schedule keeps calling, and nothing is sent). */
  token: string | undefined;
}

/** How long the scheduler is given to disable the old schedule before the request answers anyway. */
const DISABLE_TIMEOUT_MS = 5_000;

/**
 * Seed's legacy per-subscription send (`POST /subscriptions/{id}/send`), as Seed 0.10 and later answer it: nothing
 * is sent (the subscription's content schedule fans out to it, so a send here would be a second one), and the
 * subscription's own old scheduler schedule (`metadata.scheduler_schedule_id`, from before 0.10) is disabled with
 * `PATCH {enabled: false}`, so it stops calling. 400 for an unknown subscription. A disable that fails (no token,
 * the scheduler down, a schedule it does not know) is logged: the next call tries again, and sends nothing either.
 */
export async function retireLegacySchedule(
  db: Db,
  id: string,
  scheduler: SchedulerApi,
  log: Pick<Logger, "info" | "warn">,
): Promise<void> {
  const sub = await db.subscription.findUnique({ where: { id }, select: { metadata: true } });
  if (!sub) {
    throw seedSubscriptionNotFound(id);
  }
  const schedule = (sub.metadata as { scheduler_schedule_id?: unknown } | null)?.scheduler_schedule_id;
  if (typeof schedule !== "string" || !isUuid(schedule)) {
    log.info({ subscription: id }, "legacy send: nothing sent, no old schedule to disable");
    return;
  }
  if (!scheduler.token) {
    log.warn(
      { subscription: id, schedule },
      "legacy send: no SCHEDULER_TOKEN or ADMIN_TOKEN to disable the old schedule",
    );
    return;
  }
  try {
    const res = await fetch(new URL(`/api/v1/schedule/${schedule}/`, scheduler.url), {
      method: "PATCH",
      headers: { authorization: `Token ${scheduler.token}`, "content-type": "application/json" },
      body: JSON.stringify({ enabled: false }),
      signal: AbortSignal.timeout(DISABLE_TIMEOUT_MS),
    });
    if (res.ok) {
      log.info({ subscription: id, schedule }, "legacy send: nothing sent, old schedule disabled");
    } else {
      log.warn(
        { subscription: id, schedule, status: res.status },
        "legacy send: the scheduler did not disable the old schedule",
      );
    }
  } catch (err) {
    log.warn(
      { subscription: id, schedule, err },
      "legacy send: the scheduler could not be reached to disable the old schedule",
    );
  }
}
