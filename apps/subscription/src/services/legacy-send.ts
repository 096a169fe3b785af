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
 * Whether a scheduler schedule's endpoint is subscription `id`'s own legacy send URL, as Seed's SBM (<= 0.9) made it
 * for that subscription's schedule: `<STAGE_BASED_MESSAGING_URL>/<id>/send`, that URL ending in `/subscriptions`.
 */
function isLegacySendUrlOf(endpoint: unknown, id: string): boolean {
  if (typeof endpoint !== "string" || !URL.canParse(endpoint)) {
    return false;
  }
  const path = new URL(endpoint).pathname.replace(/\/$/, "").toLowerCase();
  return path.endsWith(`/subscriptions/${id.toLowerCase()}/send`);
}

/**
 * Seed's legacy per-subscription send (`POST /subscriptions/{id}/send`), as Seed 0.10 and later answer it: nothing
 * is sent (the subscription's content schedule fans out to it, so a send here would be a second one), and the
 * subscription's own old scheduler schedule (`metadata.scheduler_schedule_id`, from before 0.10) is disabled with
 * `PATCH {enabled: false}`, so it stops calling. Any subscription token may write that metadata, so the schedule
 * is first read and disabled only when it is that subscription's own (its endpoint the subscription's send URL);
 * any other is left alone. 400 for an unknown subscription. A disable that fails (no token, the scheduler down, a
 * schedule it does not know) is logged: the next call tries again, and sends nothing either.
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
  const signal = AbortSignal.timeout(DISABLE_TIMEOUT_MS);
  const call = (method: "GET" | "PATCH", body?: object) =>
    fetch(new URL(`/api/v1/schedule/${schedule}/`, scheduler.url), {
      method,
      headers: {
        authorization: `Token ${scheduler.token}`,
        ...(body ? { "content-type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal,
    });
  try {
    const current = await call("GET");
    if (!current.ok) {
      log.warn(
        { subscription: id, schedule, status: current.status },
        "legacy send: the scheduler did not answer for the old schedule",
      );
      return;
    }
    if (!isLegacySendUrlOf(((await current.json()) as { endpoint?: unknown }).endpoint, id)) {
      log.warn(
        { subscription: id, schedule },
        "legacy send: the schedule its metadata names does not call this subscription's send; left alone",
      );
      return;
    }
    const res = await call("PATCH", { enabled: false });
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
