import type { ResendBody, ResendOutcome, ResendResult } from "@tidings/contracts";
import type { Viewer } from "../api-keys/visibility.ts";
import { isOptedOut } from "../consent/consent.ts";
import type { Db } from "../db.ts";
import { senderError } from "../errors.ts";
import type { Outbound as OutboundRow, Prisma } from "../generated/prisma/client.ts";
import { anotherAttempt } from "../outbound/attempts.ts";
import { NotInAddressBookError, resolveAddress } from "../recipients/address-book.ts";

/** The most outbounds one resend takes (a filter matching more is truncated to its oldest). */
const MAX_RESEND = 1000;

/** The statuses a resend takes an outbound from: never queued or submitted (in flight), nor delivered. */
const RESENDABLE = ["failed", "expired"] as const;

/**
 * The outbounds a key may resend: every one for an admin key, else only those its user created (a `live` key sees
 * every outbound, but may send again only its own).
 */
const resendable = (viewer: Viewer): Prisma.OutboundWhereInput =>
  viewer.isAdmin ? {} : { createdBy: viewer.userId ?? -1 };

/** Why an outbound is not sent again, or undefined when it may be: its status, its content, its recipient's consent. */
async function refusal(db: Db, row: OutboundRow): Promise<ResendOutcome | undefined> {
  if (!(RESENDABLE as readonly string[]).includes(row.status)) {
    return "not_resendable";
  }
  if (row.redactedAt) {
    return "redacted"; // its content and metadata were cleared (DELETE, or its person forgotten)
  }
  if (row.sensitive) {
    return "sensitive"; // its content was cleared once it was sent
  }
  let address: string | null = row.toAddr || null;
  if (!address && row.toIdentity) {
    try {
      const resolved = await resolveAddress(db, row.toIdentity);
      if (resolved.optedOut) {
        return "opted_out";
      }
      address = resolved.address;
    } catch (err) {
      if (!(err instanceof NotInAddressBookError)) {
        throw err;
      }
      return undefined; // the send waits for the identity, and checks its consent then
    }
  }
  if (!address) {
    return "no_address";
  }
  return (await isOptedOut(db, address)) ? "opted_out" : undefined;
}

/**
 * `POST /api/v1/outbound/resend/`: sends failed or expired outbounds again, chosen by `ids` or by a `filter` (the
 * oldest 1,000 it matches), each as another attempt of the same outbound (anotherAttempt, as the automatic retries:
 * its `attempts` keep counting, the redelivery policy counts afresh, `expires_at` becomes the body's or none). An
 * outbound whose recipient opted out is not sent again (`opted_out`), nor one queued, submitted, delivered or
 * cancelled (`not_resendable`), a sensitive one (`sensitive`), one with no address left (`no_address`), or one
 * the key may not resend (`not_found`). The send checks consent and the sending window again.
 */
export async function resendOutbounds(
  db: Db,
  body: ResendBody,
  viewer: Viewer,
  correlationId?: string,
): Promise<ResendResult> {
  if ((body.ids === undefined) === (body.filter === undefined)) {
    throw senderError("VALIDATION_FAILED", "Give exactly one of ids and filter", [
      { field: "body", message: "exactly one of ids and filter" },
    ]);
  }
  const { filter } = body;
  const rows = await db.outbound.findMany({
    where: {
      ...resendable(viewer),
      ...(body.ids
        ? { id: { in: body.ids } }
        : {
            status: filter?.status ?? { in: [...RESENDABLE] },
            channel: filter?.channel,
            toIdentity: filter?.to_identity,
            createdAt: { gte: filter?.created_at__gte, lt: filter?.created_at__lt },
          }),
    },
    orderBy: { createdAt: "asc" },
    take: MAX_RESEND + 1,
  });
  const taken = rows.slice(0, MAX_RESEND);
  const outcomes = new Map<string, ResendOutcome>((body.ids ?? []).map((id) => [id, "not_found"]));
  const toResend: string[] = [];
  for (const row of taken) {
    const refused = await refusal(db, row);
    outcomes.set(row.id, refused ?? "resent");
    if (!refused) {
      toResend.push(row.id);
    }
  }
  const moved = await db.$transaction(async (tx) => {
    const again = await anotherAttempt(tx, toResend, {
      from: [...RESENDABLE],
      notBefore: null,
      reason: "resent",
      resend: { expiresAt: body.expires_at ? new Date(body.expires_at) : null },
      correlationId,
    });
    // A failed task resent is no longer one.
    await tx.outboundSendFailure.deleteMany({ where: { outboundId: { in: again.map((r) => r.id) } } });
    return new Set(again.map((r) => r.id));
  });
  for (const id of toResend) {
    if (!moved.has(id)) {
      outcomes.set(id, "not_resendable"); // changed since it was read (resent by another request)
    }
  }
  const results = [...outcomes].map(([id, outcome]) => ({ id, outcome }));
  const counts: Record<string, number> = {};
  for (const { outcome } of results) {
    counts[outcome] = (counts[outcome] ?? 0) + 1;
  }
  return { counts, results, truncated: rows.length > MAX_RESEND };
}
