import { isFirstDelivery } from "@tidings/amqp";
import type { InboundReceived, OptOutReported, QueueName } from "@tidings/contracts";
import { ApiError, type Logger } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import { recordOptIn, recordOptOut } from "./consent.ts";
import type { IdentityOptions } from "./identities.ts";

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
}

/**
 * A stop opt-out (with its consent-ledger entry and `optout.created`) or an opt-in, asked for by a message. The
 * message's id is recorded as handled in the same transaction, so copies of one message, even handled at once by
 * two workers, change nothing twice. A request about an address no identity has (or several have) is logged and
 * dropped: there is nobody to opt out.
 */
async function applyConsentRequest(
  db: Db,
  { queue, messageId, action, reason, ...request }: ConsentRequest,
  log: Logger,
  options: IdentityOptions & { correlationId?: string },
): Promise<Outcome> {
  const actor = { userId: null, correlationId: options.correlationId };
  try {
    return await db.$transaction(async (tx) => {
      if (!(await isFirstDelivery(tx, { queue, messageId }))) {
        return "ignored";
      }
      if (action === "stop") {
        await recordOptOut(tx, { ...request, optout_type: "stop", reason }, actor, options);
        return "opted-out";
      }
      await recordOptIn(tx, request, actor, options);
      return "opted-in";
    });
  } catch (err) {
    if (err instanceof ApiError && err.statusCode < 500) {
      log.info({ code: err.code, queue, messageId }, "consent request not applied");
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
    },
    log,
    options,
  );
}
