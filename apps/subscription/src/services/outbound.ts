import type { OutboundSend, SendingWindow } from "@tidings/contracts";
import type { Db, Tx } from "../db.ts";

export interface OutboundMessage {
  text: string | null;
  metadata: Record<string, unknown>;
  /** The binary content's public URL. */
  binaryUrl: string | null;
}

/** The subscription metadata keys an audio set's sends carry: when the person takes calls (HelloMama's). */
const CALLING_HOURS_KEYS = ["voice_days", "voice_times"] as const;

/**
 * The `outbound.send` for one message, as Seed built it: the message's metadata is copied; a text set
 * sends the text (after `prepend`, when given) and a message with a file also sends `metadata.image_url`;
 * an audio set sends `metadata.voice_speech_url`, always a list (`[prepend, file]` when prepending), and the
 * subscription's `voice_days` / `voice_times` (the message sender calls only then).
 * Scheduled sends take the `bulk` lane, so a large tick never delays codes or one-off sends; an operator's
 * resend goes in the `normal` lane. Every send says which message it is: the subscription
 * (`created_by_subscription`) and the message's `sequence_number` in its set, which message-sender keeps on the
 * outbound for the helpdesk.
 */
export function outboundFor(input: {
  id: string;
  identity: string;
  /** The subscription it is sent for, and the message's position in its set. */
  subscription: string;
  sequenceNumber: number;
  contentType: string;
  channel: string | null;
  message: OutboundMessage;
  prepend?: string;
  resend?: boolean;
  /** The message set's quiet hours: the message sender defers the send until the window opens. */
  sendingWindow?: SendingWindow | null;
  /** The subscription's metadata: an audio send carries its `voice_days` and `voice_times`. */
  subscriptionMetadata?: Record<string, unknown> | null;
}): OutboundSend {
  const { message, prepend } = input;
  const metadata: Record<string, unknown> = { ...message.metadata };
  let content = message.text;
  if (input.contentType === "audio") {
    if (message.binaryUrl) {
      metadata.voice_speech_url = prepend ? [prepend, message.binaryUrl] : [message.binaryUrl];
    }
    for (const key of CALLING_HOURS_KEYS) {
      const value = input.subscriptionMetadata?.[key];
      if (value !== undefined && value !== null) {
        metadata[key] = value;
      }
    }
  } else {
    content = prepend ? `${prepend}\n${message.text ?? ""}` : (message.text ?? "");
    if (message.binaryUrl) {
      metadata.image_url = message.binaryUrl;
    }
  }
  return {
    id: input.id,
    to_identity: input.identity,
    content,
    channel: input.channel,
    metadata,
    priority: input.resend ? "normal" : "bulk",
    ...(input.sendingWindow ? { sending_window: input.sendingWindow } : {}),
    ...(input.resend ? { resend: true } : {}),
    created_by_subscription: input.subscription,
    sequence_number: input.sequenceNumber,
  };
}

/** What an identity's details (its local copy) say of how its messages go: Seed's hub keys. */
export interface ChannelPreference {
  /** The kind of message the person asked for: `text` or `audio` (a hub's registration `msg_type`). */
  preferred_msg_type?: unknown;
  /** The channel id the person's messages of that kind go through (a voice channel for `audio`). */
  channel?: unknown;
}

/** The channel preferences of these identities (those with a local copy), by identity. */
export async function channelPreferences(
  db: Db | Tx,
  identities: string[],
): Promise<Map<string, ChannelPreference>> {
  const copies = await db.identityCopy.findMany({
    where: { id: { in: [...new Set(identities)] }, deleted: false },
    select: { id: true, details: true },
  });
  return new Map(copies.map((c) => [c.id, (c.details ?? {}) as ChannelPreference]));
}

/**
 * The channel of a send of a set of `contentType` (text or audio): the identity's `channel` when its
 * `preferred_msg_type` is that type (or it names none), else the set's channel (null: message-sender's default).
 * So an audio set reaches a person who asked for calls through their voice channel, and a text set keeps its own.
 */
export function channelFor(
  preference: ChannelPreference | undefined,
  contentType: string,
  setChannel: string | null,
): string | null {
  const { preferred_msg_type: kind, channel } = preference ?? {};
  const applies = kind === undefined || kind === contentType;
  return applies && typeof channel === "string" && channel !== "" ? channel : setChannel;
}
