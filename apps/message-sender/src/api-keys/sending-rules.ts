import type { KeyKind } from "@tidings/service-kit";
import { senderError } from "../errors.ts";
import { DEFAULT_CHANNEL } from "../outbound/channel.ts";

/** Who is sending: the API key's kind and, for `team` keys, its allow-list. */
export interface SendingKey {
  keyKind: KeyKind;
  allowList: readonly string[];
}

interface Recipient {
  to_addr?: string | undefined;
  to_identity?: string | null | undefined;
}

/** Emails are compared lower-cased (the allow-list holds them so); numbers and identity ids as given. */
const normalise = (address: string) => (address.includes("@") ? address.toLowerCase() : address).trim();

export interface Refused {
  /** The recipient's index in the request. */
  index: number;
  /** Its fields that are not on the allow-list. */
  fields: ("to_addr" | "to_identity")[];
}

/**
 * A `team` key may only send to the addresses and identities on its allow-list: every recipient field given
 * must be on it. Returns the recipients that are not (none for other kinds of key).
 */
export function recipientsNotAllowed(key: SendingKey, recipients: readonly Recipient[]): Refused[] {
  if (key.keyKind !== "team") {
    return [];
  }
  const allowed = new Set(key.allowList.map(normalise));
  const refused: Refused[] = [];
  recipients.forEach((r, index) => {
    const fields: Refused["fields"] = [];
    if (r.to_addr && !allowed.has(normalise(r.to_addr))) {
      fields.push("to_addr");
    }
    if (r.to_identity && !allowed.has(r.to_identity.toLowerCase())) {
      fields.push("to_identity");
    }
    if (fields.length > 0) {
      refused.push({ index, fields });
    }
  });
  return refused;
}

/** 403 naming the fields off the allow-list (`prefix` is where the recipient is in the body). */
export const notAllowed = (message: string, refused: readonly Refused[], prefix: (index: number) => string) =>
  senderError(
    "MESSAGE_SENDER_RECIPIENT_NOT_ALLOWED",
    message,
    refused.flatMap(({ index, fields }) =>
      fields.map((field) => ({ field: `${prefix(index)}.${field}`, message: "not on the key's allow-list" })),
    ),
  );

/** A `test` key's sends go through the log channel whatever was asked for: they never reach a provider. */
export const channelForKey = (key: SendingKey, channel: string): string =>
  key.keyKind === "test" ? DEFAULT_CHANNEL : channel;
