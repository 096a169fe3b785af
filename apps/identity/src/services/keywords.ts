import { isFirstDelivery } from "@tidings/amqp";
import type { InboundReceived, OptOutReported, QueueName } from "@tidings/contracts";
import { ApiError, type Logger } from "@tidings/service-kit";
import type { Db, Tx } from "../db.ts";
import { normaliseAddress } from "./addresses.ts";
import { recordOptIn, recordOptOut } from "./consent.ts";
import { type IdentityOptions, identitiesWithAddress, lockIdentity } from "./identities.ts";

type Outcome = "opted-out" | "opted-in" | "ignored";

interface ConsentRequest {
  /** The queue and message that ask for it: recorded as handled in the same transaction. */
  queue: QueueName;
  messageId: string;
  action: "stop" | "start";
  identity: string | null;
  address_type: string;
  address: string;
  request_source: string;
  /** What asked for it (an inbound message, a refused outbound): the opt-out's `requestor_source_id`. */
  requestor_source_id: string;
  reason: string;
  /** When the person asked (the inbound's or the report's time). */
  at: string;
}

/** The most identities one consent request changes (people sharing a phone: a handful). */
const MAX_HOLDERS = 100;

/**
 * Whether the identity's consent to `address` changed after `at` (a change of that address, or of everything): a
 * request older than that change is not applied, so a STOP and a START handled out of order (a backlog, a retry,
 * two workers) leave the person as their last word did. Read with the identity locked.
 */
async function changedSince(tx: Tx, identity: string, type: string, address: string, at: Date) {
  const rows = await tx.$queryRaw<{ changed: boolean }[]>`
    SELECT EXISTS (
      SELECT 1 FROM consent_event
      WHERE identity_id = ${identity}::uuid AND created_at > ${at}
        AND (scope = 'all' OR (channel = ${type} AND address = ${address}))) AS changed`;
  return rows[0]?.changed === true;
}

/**
 * A stop opt-out (with its consent-ledger entry and `optout.created`) or an opt-in, asked for by a message, of the
 * address on every identity holding it: whoever holds the phone says STOP for it, so several identities sharing a
 * number are each opted out of it (the message's `identity`, when it names one, is among them while the address is
 * still its own). The message's id is recorded as handled in the same transaction, so copies of one message, even
 * handled at once by two workers, change nothing twice. An address no identity has is logged and dropped: there is
 * nobody to opt out here (message-sender's consent copy already stopped sends to it).
 */
async function applyConsentRequest(
  db: Db,
  { queue, messageId, action, reason, ...request }: ConsentRequest,
  log: Logger,
  options: IdentityOptions & { correlationId?: string },
): Promise<Outcome> {
  const actor = { userId: null, correlationId: options.correlationId };
  const address =
    normaliseAddress(request.address_type, request.address, options.defaultCountry) ?? request.address;
  try {
    return await db.$transaction(async (tx) => {
      if (!(await isFirstDelivery(tx, { queue, messageId }))) {
        return "ignored";
      }
      const holders = await identitiesWithAddress(tx, request.address_type, address, MAX_HOLDERS);
      if (holders.length === 0) {
        log.warn(
          { queue, messageId, identity: request.identity, request_source: request.request_source },
          "consent request not applied: no identity has the address",
        );
        return "ignored";
      }
      const at = new Date(request.at);
      let applied = 0;
      for (const identity of holders) {
        await lockIdentity(tx, identity);
        if (await changedSince(tx, identity, request.address_type, address, at)) {
          log.info(
            { queue, messageId, identity, action },
            "consent request older than the address's last change; not applied",
          );
          continue;
        }
        const one = { ...request, identity, address };
        if (action === "stop") {
          await recordOptOut(tx, { ...one, optout_type: "stop", reason }, actor, { ...options, at });
        } else {
          await recordOptIn(tx, one, actor, { ...options, at });
        }
        applied++;
      }
      if (applied === 0) {
        return "ignored";
      }
      return action === "stop" ? "opted-out" : "opted-in";
    });
  } catch (err) {
    if (err instanceof ApiError && err.statusCode < 500) {
      log.warn({ code: err.code, queue, messageId }, "consent request not applied");
      return "ignored";
    }
    throw err;
  }
}

/** An inbound STOP opts its sender's address out; START opts it back in. */
export function applyKeyword(
  db: Db,
  inbound: InboundReceived,
  log: Logger,
  options: IdentityOptions & { correlationId?: string },
): Promise<Outcome> {
  if ((inbound.keyword !== "stop" && inbound.keyword !== "start") || !inbound.from_addr) {
    return Promise.resolve("ignored");
  }
  return applyConsentRequest(
    db,
    {
      queue: "identity.inbound",
      messageId: inbound.id,
      action: inbound.keyword,
      identity: inbound.from_identity,
      address_type: "msisdn",
      address: inbound.from_addr,
      request_source: `inbound:${inbound.channel}`,
      requestor_source_id: inbound.id,
      reason: "STOP keyword",
      at: inbound.at,
    },
    log,
    options,
  );
}

/**
 * A provider refused a send because the recipient unsubscribed from it (Twilio 21610): a stop opt-out of that
 * address from source `provider`, as an inbound STOP is.
 */
export function applyProviderOptOut(
  db: Db,
  report: OptOutReported,
  log: Logger,
  options: IdentityOptions & { correlationId?: string },
): Promise<Outcome> {
  return applyConsentRequest(
    db,
    {
      queue: "identity.provider-optouts",
      messageId: report.outbound_id,
      action: "stop",
      identity: report.identity,
      address_type: report.address_type,
      address: report.address,
      request_source: "provider",
      requestor_source_id: report.outbound_id,
      reason: `${report.channel}: ${report.provider_code}`,
      at: report.at,
    },
    log,
    options,
  );
}
