import { setTimeout as sleep } from "node:timers/promises";
import { smsInfo } from "@tidings/contracts";
import type { Db } from "../db.ts";

const SMS_TYPES = new Set(["twilio", "vonage"]);

/** What one message costs against a channel's rate_limit: its SMS segments on SMS channels, else 1. */
export const rateCost = (type: string, content: string | null): number =>
  SMS_TYPES.has(type) ? Math.max(1, smsInfo(content ?? "").segments) : 1;

/**
 * Takes `cost` from the channel's allowance for the current second, shared by every worker through one row
 * per (channel, second): an upsert that only adds while the total stays within `limit` (the first message of
 * a second always passes, however long). When the second is full, waits for the next one. False when that
 * would take longer than `maxWaitMs` (the caller retries the message later).
 */
export async function takeRate(
  db: Db,
  channel: string,
  limit: number,
  cost: number,
  maxWaitMs: number,
): Promise<boolean> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    const taken = await db.$queryRaw<{ used: number }[]>`
      INSERT INTO channel_rate_window (channel, second, used) VALUES (${channel}, ${second}, ${cost})
      ON CONFLICT (channel, second) DO UPDATE SET used = channel_rate_window.used + ${cost}
      WHERE channel_rate_window.used + ${cost} <= ${limit}
      RETURNING used`;
    if (taken.length > 0) {
      return true;
    }
    const nextSecond = (second + 1) * 1000;
    if (nextSecond > deadline) {
      return false;
    }
    await sleep(nextSecond - now + Math.floor(Math.random() * 20));
  }
}

/** Forgets windows older than a minute. */
export async function pruneRateWindows(db: Db): Promise<void> {
  await db.channelRateWindow.deleteMany({
    where: { second: { lt: BigInt(Math.floor(Date.now() / 1000) - 60) } },
  });
}

/**
 * Takes one of the channel's `limit` slots for `holder` (a lease of `leaseMs`, so a crashed worker's slot
 * lapses), waiting up to `maxWaitMs` for one to come free. The slot number, or undefined when none came free.
 */
export async function takeSlot(
  db: Db,
  channel: string,
  limit: number,
  holder: string,
  leaseMs: number,
  maxWaitMs: number,
): Promise<number | undefined> {
  const deadline = Date.now() + maxWaitMs;
  await db.$executeRaw`
    INSERT INTO channel_slot (channel, slot) SELECT ${channel}, g FROM generate_series(0, ${limit} - 1) AS g
    ON CONFLICT DO NOTHING`;
  for (;;) {
    const [taken] = await db.$queryRaw<{ slot: number }[]>`
      WITH free AS (
        SELECT channel, slot FROM channel_slot
        WHERE channel = ${channel} AND slot < ${limit} AND (until IS NULL OR until < now())
        ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED
      )
      UPDATE channel_slot s SET holder = ${holder},
        until = now() + make_interval(secs => ${leaseMs / 1000}::float8)
      FROM free WHERE s.channel = free.channel AND s.slot = free.slot
      RETURNING s.slot`;
    if (taken) {
      return taken.slot;
    }
    if (Date.now() + 50 > deadline) {
      return undefined;
    }
    await sleep(50);
  }
}

export async function releaseSlot(db: Db, channel: string, slot: number, holder: string): Promise<void> {
  await db.channelSlot.updateMany({ where: { channel, slot, holder }, data: { holder: null, until: null } });
}

/**
 * Hands a slot taken by `holder` to the call `callId` for at most `ms` (a call holds its slot until it ends, not
 * just while it is placed): releaseCallSlot frees it when the call's end is reported, else it lapses. False (the
 * slot is left to its holder to release) when the call's end was already reported (kept as an early report).
 */
export async function holdSlotForCall(
  db: Db,
  channel: string,
  slot: number,
  holder: string,
  callId: string,
  ms: number,
): Promise<boolean> {
  const held = await db.$executeRaw`
    UPDATE channel_slot SET holder = ${`call:${callId}`},
      until = now() + make_interval(secs => ${ms / 1000}::float8)
    WHERE channel = ${channel} AND slot = ${slot} AND holder = ${holder}
      AND NOT EXISTS (SELECT 1 FROM early_report WHERE channel = ${channel} AND provider_id = ${callId})`;
  return held > 0;
}

/** Frees the slot a call held (holdSlotForCall), if it still does. */
export async function releaseCallSlot(db: Db, channel: string, callId: string): Promise<void> {
  await db.channelSlot.updateMany({
    where: { channel, holder: `call:${callId}` },
    data: { holder: null, until: null },
  });
}
