import { isFirstDelivery } from "@tidings/amqp";
import type { InboundReceived } from "@tidings/contracts";
import { ApiError, type Logger } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import { recordOptIn, recordOptOut } from "./consent.ts";
import type { IdentityOptions } from "./identities.ts";

/**
 * An inbound STOP opts its sender's address out (a `stop` opt-out, with its consent-ledger entry and
 * `optout.created`); START opts it back in. The inbound message's id is recorded as handled in the same
 * transaction (and as the request's `requestor_source_id`), so copies of one message, even handled at
 * once by two workers, change nothing twice. A keyword from an address no identity has (or several have)
 * is logged and dropped: there is nobody to opt out.
 */
export async function applyKeyword(
  db: Db,
  inbound: InboundReceived,
  log: Logger,
  options: IdentityOptions & { correlationId?: string },
): Promise<"opted-out" | "opted-in" | "ignored"> {
  if ((inbound.keyword !== "stop" && inbound.keyword !== "start") || !inbound.from_addr) {
    return "ignored";
  }
  const request = {
    identity: inbound.from_identity,
    address_type: "msisdn",
    address: inbound.from_addr,
    request_source: `inbound:${inbound.channel}`,
    requestor_source_id: inbound.id,
  };
  const actor = { userId: null, correlationId: options.correlationId };
  try {
    return await db.$transaction(async (tx) => {
      if (!(await isFirstDelivery(tx, { queue: "identity.inbound", messageId: inbound.id }))) {
        return "ignored";
      }
      if (inbound.keyword === "stop") {
        await recordOptOut(tx, { ...request, optout_type: "stop", reason: "STOP keyword" }, actor, options);
        return "opted-out";
      }
      await recordOptIn(tx, request, actor, options);
      return "opted-in";
    });
  } catch (err) {
    if (err instanceof ApiError && err.statusCode < 500) {
      log.info({ code: err.code, inbound: inbound.id }, "keyword not applied");
      return "ignored";
    }
    throw err;
  }
}
