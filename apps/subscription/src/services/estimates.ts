import type { EstimatedSend } from "@tidings/contracts";
import { CronExpressionParser } from "cron-parser";
import type { Db } from "../db.ts";
import { dayIn } from "./position.ts";

/** How many times a schedule fires on a day (YYYY-MM-DD in its own time zone). */
function slotsOnDay(cron: string, timezone: string, date: string): number {
  // Start a day early and stop a day late: whatever the zone's offset, the whole local day is covered.
  const from = new Date(`${date}T00:00:00Z`);
  const runs = CronExpressionParser.parse(cron, {
    tz: timezone,
    currentDate: new Date(from.getTime() - 86_400_000),
    endDate: new Date(from.getTime() + 2 * 86_400_000),
  });
  let n = 0;
  while (runs.hasNext()) {
    if (dayIn(runs.next().toDate(), timezone) === date) {
      n++;
    }
  }
  return n;
}

/**
 * Seed's daily send estimate, computed when asked: for each message set, the ready subscriptions (active,
 * not completed, process_status 0) on schedules that fire on `date`, the distinct identities among them,
 * and the messages those schedules' slots will send them that day (one a slot, as without catch-up).
 */
export async function estimateSends(db: Db, date: string): Promise<EstimatedSend[]> {
  const schedules = await db.scheduleCopy.findMany({ where: { deleted: false } });
  const firing = new Map(
    schedules.map((s) => [s.id, slotsOnDay(s.cron, s.timezone, date)] as const).filter(([, n]) => n > 0),
  );
  if (firing.size === 0) {
    return [];
  }
  const rows = await db.$queryRawUnsafe<{ messageset: number; schedule: number; subscriptions: number }[]>(
    `SELECT messageset, schedule, count(*)::int AS subscriptions
     FROM subscription
     WHERE active AND NOT completed AND process_status = 0 AND schedule = ANY($1::int[])
     GROUP BY 1, 2`,
    [...firing.keys()],
  );
  const identities = await db.$queryRawUnsafe<{ messageset: number; n: number }[]>(
    `SELECT messageset, count(DISTINCT identity)::int AS n
     FROM subscription
     WHERE active AND NOT completed AND process_status = 0 AND schedule = ANY($1::int[])
     GROUP BY 1`,
    [...firing.keys()],
  );
  const bySet = new Map<number, EstimatedSend>();
  for (const r of rows) {
    const e = bySet.get(r.messageset) ?? {
      send_date: date,
      messageset: r.messageset,
      estimate_subscriptions: 0,
      estimate_identities: 0,
      estimate_sends: 0,
    };
    e.estimate_subscriptions += r.subscriptions;
    e.estimate_sends += r.subscriptions * (firing.get(r.schedule) ?? 0);
    bySet.set(r.messageset, e);
  }
  for (const { messageset, n } of identities) {
    const e = bySet.get(messageset);
    if (e) {
      e.estimate_identities = n;
    }
  }
  return [...bySet.values()].sort((a, b) => a.messageset - b.messageset);
}
