/** The overview's numbers from message-sender's per day × channel × status counts of the last 30 days. */

export const DAYS = 30;
const DAY_MS = 86_400_000;

export interface CountRow {
  date: string;
  channel: string;
  status: string;
  count: number;
}

/** Sent: every message accepted (whatever its status now); delivered and failed: those that ended so. */
export interface Totals {
  sent: number;
  delivered: number;
  failed: number;
}

export interface Summary {
  /** Every one of the 30 days (UTC), oldest first, with zeros on quiet days. */
  days: ({ date: string } & Totals)[];
  /** Sent per day and channel, one key per channel (the per-channel chart's stacks). */
  daysByChannel: ({ date: string } & Record<string, number | string>)[];
  channels: ({ channel: string } & Totals)[];
  total: Totals;
  /** Delivered of those that ended (delivered, failed or expired); null before any did. */
  deliveryRate: number | null;
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The first and last UTC day of the overview's range (the last is today). */
export function range(now = Date.now()): { from: string; to: string } {
  return { from: isoDay(now - (DAYS - 1) * DAY_MS), to: isoDay(now) };
}

const zero = (): Totals => ({ sent: 0, delivered: 0, failed: 0 });

function add(totals: Totals, row: CountRow): void {
  totals.sent += row.count;
  if (row.status === "delivered") {
    totals.delivered += row.count;
  } else if (row.status === "failed") {
    totals.failed += row.count;
  }
}

export function summarise(rows: CountRow[], now = Date.now()): Summary {
  const { from } = range(now);
  const start = Date.parse(`${from}T00:00:00Z`);
  const dates = Array.from({ length: DAYS }, (_, i) => isoDay(start + i * DAY_MS));
  const byDay = new Map(dates.map((date) => [date, zero()]));
  const byDayChannel = new Map<string, Record<string, number>>(dates.map((date) => [date, {}]));
  const byChannel = new Map<string, Totals>();
  const total = zero();
  let ended = 0;
  for (const row of rows) {
    const day = byDay.get(row.date);
    const perChannel = byDayChannel.get(row.date);
    if (!day || !perChannel) {
      continue;
    }
    add(day, row);
    perChannel[row.channel] = (perChannel[row.channel] ?? 0) + row.count;
    const channel = byChannel.get(row.channel) ?? zero();
    byChannel.set(row.channel, channel);
    add(channel, row);
    add(total, row);
    if (row.status === "delivered" || row.status === "failed" || row.status === "expired") {
      ended += row.count;
    }
  }
  return {
    days: dates.map((date) => ({ date, ...(byDay.get(date) ?? zero()) })),
    daysByChannel: dates.map((date) => ({ date, ...byDayChannel.get(date) })),
    channels: [...byChannel.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([channel, totals]) => ({ channel, ...totals })),
    total,
    deliveryRate: ended === 0 ? null : total.delivered / ended,
  };
}

export const percent = (rate: number | null): string =>
  rate === null ? "—" : `${(rate * 100).toFixed(rate === 1 ? 0 : 1)}%`;
