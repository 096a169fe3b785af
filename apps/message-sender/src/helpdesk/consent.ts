import type { SenderConsent } from "@tidings/contracts";
import { type Principal, refuseKeyKind } from "@tidings/service-kit";
import { recipientsNotAllowed } from "../api-keys/sending-rules.ts";
import { consentOf, sendableAddress } from "../consent/consent.ts";
import type { Db } from "../db.ts";
import { senderError } from "../errors.ts";

/**
 * What a send to `given` would meet in the consent copy (`GET /api/v1/consent/`), normalised as sends are addressed,
 * so a number written without its `+` or an email in capitals is the address a send reaches. One address per call,
 * by its hash: nothing lists the copy. The consent of any address is the admin's and `live` keys'; a `team` key asks
 * only about the addresses on its allow-list (403, as its sends, for any other: it learns nothing of them); a `test`
 * key, which sees only test data, not at all (the copy holds real people's consent).
 */
export async function consentFor(db: Db, given: string, principal: Principal): Promise<SenderConsent> {
  if (principal.keyKind === "test") {
    throw refuseKeyKind(principal);
  }
  const address = sendableAddress(given);
  if (!address) {
    throw senderError(
      "MESSAGE_SENDER_INVALID_ADDRESS",
      "address must be a phone number in international form (its + may be left out) or an email address",
      [{ field: "query.address", message: "not a phone number or an email address" }],
    );
  }
  if (recipientsNotAllowed(principal, [{ to_addr: address }]).length > 0) {
    throw senderError(
      "MESSAGE_SENDER_RECIPIENT_NOT_ALLOWED",
      "This team key may not ask about this address",
      [{ field: "query.address", message: "not on the key's allow-list" }],
    );
  }
  return consentOf(db, address);
}
