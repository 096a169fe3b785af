import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js/max";

const EMAIL = /^[^\s@<>"',;]+@[^\s@<>"',;]+\.[^\s@<>"',;.]+$/;

/**
 * One address normalised: msisdn to E.164 (full metadata: the number must be a valid number), email
 * trimmed and lower-cased, other types trimmed. Null when it is not a valid address of its type.
 */
export function normaliseAddress(type: string, value: string, defaultCountry?: string): string | null {
  const trimmed = value.trim();
  if (type === "msisdn") {
    const parsed = parsePhoneNumberFromString(trimmed, defaultCountry as CountryCode | undefined);
    return parsed?.isValid() ? parsed.number : null;
  }
  if (type === "email") {
    const lower = trimmed.toLowerCase();
    return EMAIL.test(lower) && lower.length <= 254 ? lower : null;
  }
  return trimmed.length > 0 ? trimmed : null;
}

/** Every address type message-sender sends to (a channel sends to one of them or both: addressTypesFor). */
export const SENDABLE_ADDRESS_TYPES = ["msisdn", "email"] as const;

/**
 * The address types a channel of this type sends to: email over SMTP, phone numbers (E.164) through the SMS
 * providers, either through the log channel (it sends nothing, but stands in for both).
 */
export function addressTypesFor(channelType: string): readonly ("msisdn" | "email")[] {
  switch (channelType) {
    case "smtp":
      return ["email"];
    case "log":
      return SENDABLE_ADDRESS_TYPES;
    default:
      return ["msisdn"];
  }
}

/**
 * A `to_addr` for a channel of this type, normalised (E.164 or a lower-cased email), or null when it is not an
 * address that channel can send to. Phone numbers must be in international form: there is no default country.
 */
export function normaliseRecipient(channelType: string, toAddr: string): string | null {
  for (const type of addressTypesFor(channelType)) {
    const normalised = normaliseAddress(type, toAddr);
    if (normalised) {
      return normalised;
    }
  }
  return null;
}
