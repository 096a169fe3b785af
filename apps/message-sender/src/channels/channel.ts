import type { MessageContext } from "@tidings/amqp";

export type Logger = MessageContext["log"];

/** What a channel needs of an outbound to send it. */
export interface OutboundToSend {
  id: string;
  content: string | null;
  metadata: Record<string, unknown>;
}

export interface SendResult {
  /** The provider's id for the message; its delivery reports refer to it. */
  providerId: string;
  /** The provider already reports the message delivered (the log channel), so no callback will follow. */
  delivered: boolean;
}

/**
 * A way to send messages (log, and later twilio, vonage, smtp). `send` resolves once the provider accepted
 * the message. It throws PermanentSendError when the provider refused it for good (the outbound fails);
 * any other error is retried. It must give up before the worker's claim lapses (OUTBOUND_CLAIM_TTL_MS).
 */
export interface Channel {
  send(outbound: OutboundToSend, address: string): Promise<SendResult>;
}

/** The channels by channel id (Seed's `channel_id`), e.g. `{ LOG: new LogChannel(logger) }`. */
export type Channels = Readonly<Record<string, Channel>>;

export const DEFAULT_CHANNEL = "LOG";

/** The provider refused the message and would refuse it again: the outbound fails, no retry. */
export class PermanentSendError extends Error {
  override name = "PermanentSendError";
}
