import { addressTypesFor, normaliseRecipient } from "@tidings/contracts/addresses";
import { senderError } from "../errors.ts";

export interface Recipient {
  to_addr?: string | null;
}

/**
 * Every `to_addr` normalised for the channel's type (E.164 for SMS, a lower-cased email for SMTP), or a 400 that
 * names each one that is not such an address: `"hello"` is no phone number.
 */
export function normaliseRecipients<R extends Recipient>(
  type: string,
  recipients: readonly R[],
  field: (index: number) => string,
): R[] {
  const bad: number[] = [];
  const normalised = recipients.map((r, i) => {
    if (!r.to_addr) {
      return r;
    }
    const to_addr = normaliseRecipient(type, r.to_addr);
    if (!to_addr) {
      bad.push(i);
    }
    return { ...r, to_addr: to_addr ?? r.to_addr };
  });
  if (bad.length > 0) {
    const expected = addressTypesFor(type)
      .map((t) => (t === "msisdn" ? "a phone number in international (E.164) form" : "an email address"))
      .join(" or ");
    throw senderError(
      "MESSAGE_SENDER_INVALID_ADDRESS",
      `to_addr must be ${expected} for a ${type} channel`,
      bad.map((i) => ({ field: field(i), message: `not ${expected}` })),
    );
  }
  return normalised;
}
