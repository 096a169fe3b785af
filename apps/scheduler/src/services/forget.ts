import type { Broker } from "@tidings/amqp";
import type { OptOutCreated } from "@tidings/contracts";
import { forgetHookDeliveries } from "@tidings/hooks";
import {
  forgetOwnDeadLetters,
  forgetPlatformRecords,
  forgottenNeedles,
  jsonHoldsAny,
} from "@tidings/service-kit";
import type { Db } from "../db.ts";
import type { Prisma } from "../generated/prisma/client.ts";
import { NO_NEXT } from "./schedule-rows.ts";

const REDACTED = "redacted";

const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** How needles may be written: as they are, and percent-encoded as in a URL (`%2B27820001001`, `ann%40example.org`). */
const writtenForms = (needles: readonly string[]): string[] => [
  ...new Set(needles.filter((n) => n !== "").flatMap((n) => [n, encodeURIComponent(n)])),
];

/**
 * The patterns (PostgreSQL regular expressions, to match case aside) of an endpoint that names one of `needles`: one
 * of their writtenForms as a whole path segment or query value, after a `/` or `=` and before a `/`, `?`, `&`, `#`
 * or the end. `.../people/+27820001001/` and `...?to=ann%40example.org` name the person; `.../people/+278200010011/`
 * and `...?to=joann@example.org` do not.
 */
const endpointPatterns = (needles: readonly string[]): string[] =>
  writtenForms(needles).map((form) => `[/=]${literally(form)}([/?&#]|$)`);

/** A text with every mention of a needle (case aside, as written or percent-encoded) replaced by "redacted". */
function withoutMentions(text: string, needles: readonly string[]): string {
  // The longest first, so a needle that begins another leaves none of it.
  const words = writtenForms(needles).sort((a, b) => b.length - a.length);
  return words.length === 0 ? text : text.replace(new RegExp(words.map(literally).join("|"), "gi"), REDACTED);
}

/**
 * A payload that named a forgotten person, as identity forgets their details: every text "redacted" (a reminder's
 * content holds their name as well as their number), numbers and booleans kept, keys with each mention replaced.
 */
export function redactPayload(value: unknown, needles: readonly string[]): unknown {
  if (typeof value === "string") {
    return REDACTED;
  }
  if (Array.isArray(value)) {
    return value.map((v) => redactPayload(v, needles));
  }
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [withoutMentions(k, needles), redactPayload(v, needles)]),
    );
  }
  return value;
}

/**
 * `optout.created` of type `forget`: every schedule that names the person (their identity id or an address, case
 * aside, as a whole string of its payload (jsonHoldsAny) or a whole path segment or query value of its endpoint
 * (endpointPatterns): a reminder's `outbound.send` to them, a hub's payload about them) is disabled, since what it
 * was set up to do involved them, with its payload redacted (redactPayload) and each mention in its endpoint
 * replaced by "redacted", and `forgotten_at` set: slots it fired before, still being delivered (a retry, a
 * requeued failure), carry the person's payload as it was and are not POSTed (deliver); hook deliveries and Idempotency-Key answers that carry them go (forgetHookDeliveries,
 * forgetPlatformRecords), in the same transaction; then their dead letters leave the scheduler's dead-letter
 * queues. Idempotent. Returns the schedules changed.
 */
export async function forgetInSchedules(db: Db, broker: Broker, optout: OptOutCreated): Promise<number> {
  const needles = forgottenNeedles(optout);
  const changed = await db.$transaction(async (tx) => {
    const named = await tx.$queryRawUnsafe<
      { id: string; payload: Prisma.JsonValue; endpoint: string | null }[]
    >(
      `SELECT id, payload, endpoint FROM schedule
       WHERE ${jsonHoldsAny("payload::text", 1)} OR endpoint ~* ANY($2::text[])
       FOR UPDATE`,
      needles,
      endpointPatterns(needles),
    );
    for (const schedule of named) {
      await tx.schedule.update({
        where: { id: schedule.id },
        data: {
          payload: redactPayload(schedule.payload, needles) as Prisma.InputJsonValue,
          endpoint: schedule.endpoint && withoutMentions(schedule.endpoint, needles),
          enabled: false,
          ...NO_NEXT,
        },
      });
    }
    // The database's clock, as the runs' fired_at: a delivery of a slot fired before this is dropped (delivery.ts).
    await tx.$executeRawUnsafe(
      "UPDATE schedule SET forgotten_at = now() WHERE id = ANY($1::uuid[])",
      named.map((s) => s.id),
    );
    await forgetHookDeliveries(tx, needles);
    await forgetPlatformRecords(tx, needles);
    return named.length;
  });
  await forgetOwnDeadLetters(broker, "scheduler", needles);
  return changed;
}
