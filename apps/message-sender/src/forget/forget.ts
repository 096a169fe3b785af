import type { Broker } from "@tidings/amqp";
import { detailAddresses, type OptOutCreated } from "@tidings/contracts";
import { forgetHookDeliveries } from "@tidings/hooks";
import { forgetOwnDeadLetters, forgetPlatformRecords, forgottenNeedles } from "@tidings/service-kit";
import type { Db, Tx } from "../db.ts";
import type { Logger } from "../outbound/channel.ts";
import { recordUnsent } from "../outbound/unsent.ts";
import { addressBook } from "../recipients/address-book.ts";
import { requestArchivePurge } from "../reports/archive-purge.ts";

/** The reason (`last_error`, history, `outbound.failed`) of an outbound cancelled because its person was forgotten. */
export const FORGOTTEN = "forgotten";

/**
 * A send to the person is in progress (a live claim): it may reach the provider, so it is left to finish and the
 * forget is retried (with backoff) to redact it afterwards.
 */
class SendInProgressError extends Error {
  override name = "SendInProgressError";
}

export interface ForgetOutcome {
  cancelled: number;
  outbounds: number;
  inbounds: number;
}

/**
 * Cancels (status `cancelled`, with `reason`) those of the outbounds still queued with no live claim (or, with
 * `worker`, under that worker's claim) and redacts them all: what a redacted outbound keeps are its id, status,
 * channel, provider id, attempts and timestamps, for reporting and counts (a tombstone, `redacted_at` set). A
 * cancelled outbound is never sent: a later `outbound.send` for it finds it no longer queued. The caller holds
 * the rows (FOR UPDATE) and has made sure none is being sent (a live claim). Returns how many were cancelled and
 * how many redacted now (an outbound redacted before is left as it is).
 */
export async function cancelAndRedact(
  tx: Tx,
  ids: string[],
  reason: string,
  worker?: string,
): Promise<{ cancelled: number; redacted: number }> {
  const cancelled = await recordUnsent(tx, ids, "cancelled", reason, worker);
  const redacted = await tx.$executeRaw`
    UPDATE outbound SET to_addr = '', content = NULL, metadata = '{}'::jsonb, redacted_at = now()
    WHERE id = ANY(${ids}::uuid[]) AND redacted_at IS NULL`;
  return { cancelled, redacted };
}

/**
 * The forms an inbound's `from_addr` may hold of the person's addresses: each as it is, and each E.164 number without
 * its `+` too, as a Vumi or Junebug gateway gave it and inbounds were stored before their sender was taken as sends
 * are addressed (receiveInbound). Only for `from_addr`: nothing else stored that form.
 */
const senderForms = (addresses: readonly string[]): string[] => [
  ...addresses,
  ...addresses.filter((a) => /^\+\d+$/.test(a)).map((a) => a.slice(1)),
];

/**
 * `optout.created` of type `forget`: in one transaction, the address book entry becomes a forgotten tombstone
 * (no addresses; late identity events are ignored), every queued or deferred outbound to the person (by
 * `to_identity`, or `to_addr` one of their addresses) is cancelled with reason `forgotten` (never sent, also
 * when a stale `outbound.send` for it arrives later: it is no longer queued), the address, content and metadata
 * of all their outbounds and the sender address, content and metadata of their inbounds (by `from_identity`, or
 * `from_addr` one of their addresses, a number also without its `+`: senderForms; and the replies to their
 * outbounds) are cleared, Idempotency-Key answers and REST-hook deliveries that carry them are deleted
 * (delivered and failed hook deliveries keep their envelope, data redacted), their WhatsApp windows
 * (`whatsapp_session`) are deleted, and, when days are archived, the person
 * waits for the worker's archive purge (requestArchivePurge). Idempotent: a
 * redelivered event finds nothing left to change. Other opt-out types change nothing here.
 */
export async function forgetPerson(db: Db, optout: OptOutCreated): Promise<ForgetOutcome | undefined> {
  if (optout.optout_type !== "forget") {
    return undefined;
  }
  const identity = optout.identity;
  const addresses = detailAddresses(optout.identity_details);
  const needles = forgottenNeedles(optout);
  return db.$transaction(async (tx) => {
    await tombstone(tx, identity);
    const outbounds = await tx.$queryRaw<{ id: string; status: string; live: boolean }[]>`
      SELECT id::text, status::text, COALESCE(claimed_until > now(), false) AS live FROM outbound
      WHERE to_identity = ${identity}::uuid OR (to_addr <> '' AND to_addr = ANY(${addresses}::text[]))
      ORDER BY id FOR UPDATE`;
    const queued = outbounds.filter((o) => o.status === "queued");
    if (queued.some((o) => o.live)) {
      throw new SendInProgressError(`a send to forgotten identity ${identity} is in progress; retried`);
    }
    const ids = outbounds.map((o) => o.id);
    await requestArchivePurge(tx, identity, addresses);
    // Hook deliveries that carry the person (before the cancellations' own, which carry only ids).
    await forgetHookDeliveries(tx, needles);
    const { cancelled, redacted } = await cancelAndRedact(tx, ids, FORGOTTEN);
    const inbounds = await tx.$executeRaw`
      UPDATE inbound SET from_addr = '', content = NULL, helper_metadata = '{}'::jsonb
      WHERE (from_identity = ${identity}::uuid OR (from_addr <> '' AND from_addr = ANY(${senderForms(addresses)}::text[]))
             OR reply_to = ANY(${ids}::uuid[]))
        AND (from_addr <> '' OR content IS NOT NULL OR helper_metadata <> '{}'::jsonb)`;
    await forgetPlatformRecords(tx, needles);
    // Their WhatsApp windows (kept by number): closed, the number gone.
    await tx.$executeRaw`DELETE FROM whatsapp_session WHERE address = ANY(${addresses}::text[])`;
    return { cancelled, outbounds: redacted, inbounds };
  });
}

/**
 * `optout.created` on the address-book queue: forgets the person (forgetPerson), then removes their dead letters from
 * the service's dead-letter queues, and logs what it did.
 */
export async function applyForget(
  db: Db,
  broker: Broker,
  optout: OptOutCreated,
  log: Pick<Logger, "info">,
): Promise<void> {
  const forgotten = await forgetPerson(db, optout);
  if (forgotten) {
    const deadLetters = await forgetOwnDeadLetters(broker, "message-sender", forgottenNeedles(optout));
    log.info(
      { identity: optout.identity, ...forgotten, deadLetters },
      "identity forgotten: sends cancelled, messages redacted, dead letters removed",
    );
  }
}

/** The address book entry: no addresses, a tombstone (late identity events change nothing), forgotten. */
async function tombstone(tx: Tx, identity: string): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO address_book_entry (identity, addresses, identity_updated_at, deleted, forgotten_at, updated_at)
    VALUES (${identity}::uuid, '[]'::jsonb, now(), true, now(), now())
    ON CONFLICT (identity) DO UPDATE SET
      addresses = '[]'::jsonb, communicate_through = NULL, default_addr_type = NULL, timezone = NULL, voice_days = NULL,
      voice_times = NULL, deleted = true,
      forgotten_at = COALESCE(address_book_entry.forgotten_at, now()), updated_at = now()`;
}

/**
 * An outbound this worker just claimed is to a forgotten identity (its `outbound.send` arrived after the forget):
 * cancelled with reason `forgotten` and redacted instead of sent. True when it was.
 */
export async function cancelIfForgotten(
  db: Db,
  id: string,
  toIdentity: string | null,
  worker: string,
): Promise<boolean> {
  if (!toIdentity) {
    return false;
  }
  if (!(await addressBook(db).entry(toIdentity))?.forgotten) {
    return false;
  }
  await db.$transaction((tx) => cancelAndRedact(tx, [id], FORGOTTEN, worker));
  return true;
}
