import type { MessageContext } from "@tidings/amqp";
import { type FailureKind, maskPii } from "@tidings/contracts";

export type Logger = MessageContext["log"];

/** What a channel needs of an outbound to send it. */
export interface OutboundToSend {
  id: string;
  content: string | null;
  metadata: Record<string, unknown>;
  /** The content template (and version) it was rendered from: a WhatsApp channel sends its WhatsApp template. */
  template?: { id: number; version: number | null } | null;
}

export interface SendResult {
  /**
   * The provider's id for the message; its delivery reports refer to it. Null when the provider accepted the
   * message (a 2xx answer) but gave no id: the send is recorded submitted all the same, never sent again, and no
   * report can be matched to it (`note` says why).
   */
  providerId: string | null;
  /** The provider already reports the message delivered (the log channel), so no callback will follow. */
  delivered: boolean;
  /** What to record about an unusual acceptance (no provider id), in the history and `last_error`. */
  note?: string;
  /**
   * Every part, in order, when the provider's delivery reports come per part (Vonage SMS: one message id and one
   * receipt per part of a long message): the outbound is delivered once every part is, and fails when one fails
   * (see channels/parts.ts). A part the provider refused while accepting the others has `refused` (its reason)
   * and an id made up from the first accepted one's.
   */
  parts?: SentPart[];
}

export interface SentPart {
  providerId: string;
  refused?: string;
}

/** A provider's acceptance that came without a message id: submitted, with the reason noted. */
export const acceptedWithoutId = (provider: string): SendResult => ({
  providerId: null,
  delivered: false,
  note: `${provider} accepted the message but returned no message id`,
});

/**
 * A way to send messages (log, and later twilio, vonage, smtp). `send` resolves once the provider accepted
 * the message. It throws PermanentSendError when the provider refused it for good (the outbound fails);
 * any other error is retried. It must give up before the worker's claim lapses (OUTBOUND_CLAIM_TTL_MS).
 */
export interface Channel {
  send(outbound: OutboundToSend, address: string): Promise<SendResult>;
  /**
   * The longest `send` may take (its request timeout). A worker starts a send only while its claim will outlast
   * it, so a claim never lapses under a send in progress. Default DEFAULT_SEND_TIMEOUT_MS.
   */
  readonly timeoutMs?: number;
  /**
   * Asks the provider where a message is (for the reconciler). Null while it is not final; channels that
   * can't be asked leave this out.
   */
  status?(providerId: string): Promise<ProviderStatus | null>;
  /**
   * A voice channel whose calls reach a played marker once their audio played to the end (it has a
   * status_callback): a call `status` reads back as completed is delivered only with that marker.
   */
  readonly marksPlayed?: boolean;
  /**
   * The provider ids of messages the provider accepted for this address with this outbound's content since
   * `since`, newest first. A worker taking over an outbound whose earlier claim may have reached the provider
   * asks this before sending again. Channels that can't be asked leave this out: their sends are at least once.
   */
  acceptedSince?(outbound: OutboundToSend, address: string, since: Date): Promise<string[]>;
  /**
   * A voice channel's sends are calls that go on after `send` returns: each holds its concurrency slot until its
   * end is reported, at most this long (Seed's `message_timeout`). Unset: a slot is held for the request only.
   */
  readonly holdsSlotMs?: number;
  /** Releases what the channel holds (connection pools). */
  close?(): Promise<void>;
}

/** A provider's final status of a message, as its status lookup says: a failure with its kind (see redelivery.ts). */
export interface ProviderStatus {
  delivered: boolean;
  reason: string | null;
  kind?: FailureKind;
}

/** The channels by channel id (Seed's `channel_id`), e.g. `{ LOG: new LogChannel(logger) }`. */
export type Channels = Readonly<Record<string, Channel>>;

export const DEFAULT_CHANNEL = "LOG";

/** A channel's send timeout when it declares none. */
export const DEFAULT_SEND_TIMEOUT_MS = 10_000;

/**
 * The provider refused the message and would refuse it again (a definite rejection: it was not accepted):
 * the outbound fails, or fails over to the channel's fallback. `code` is the provider's error code.
 */
export class PermanentSendError extends Error {
  override name = "PermanentSendError";
  constructor(
    message: string,
    readonly code?: string | number,
  ) {
    super(message);
  }
}

/** The reason of an outbound whose recipient has no address to send to. */
export const NO_ADDRESS = "no address";

/** The reason an outbound fails with when the provider says its recipient opted out (unsubscribed). */
export const OPTED_OUT = "opted_out";

/**
 * The provider refused the message because the recipient opted out of messages from us (Twilio 21610, Vonage
 * status 7): a definite rejection that no retry, and no fallback channel, may get past. The outbound fails with
 * reason `opted_out`.
 */
export class RecipientOptedOutError extends PermanentSendError {
  override name = "RecipientOptedOutError";
}

/**
 * What an outbound records of the error that stopped its send (`last_error`, the reason of outbound.failed):
 * `opted_out` for an opted-out recipient, else the error's message with numbers and emails masked. Never throws:
 * an SDK's error may come without a message.
 */
export function failureReason(err: unknown): string {
  if (err instanceof RecipientOptedOutError) {
    return OPTED_OUT;
  }
  const { message, name } = (err ?? {}) as { message?: unknown; name?: unknown };
  const text = typeof message === "string" && message ? message : `${String(name ?? err)} (no message)`;
  return maskPii(text);
}

/**
 * The provider is throttling us (HTTP 429, Twilio 20429): the message was not accepted. The channel's sending
 * pauses for `retryAfterMs` and the message is retried.
 */
export class ThrottledError extends Error {
  override name = "ThrottledError";
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/**
 * A send went out and got no answer: the request timed out, or its connection broke. The provider may have
 * accepted the message, and may still accept it after we gave up waiting. The sender keeps the outbound claimed
 * for as long again as the send waited (`waitedMs`, the channel's timeout) and retries only after that, so the
 * retry's lookup (`acceptedSince`) sees a late acceptance instead of sending the message a second time.
 */
export class NoAnswerError extends Error {
  override name = "NoAnswerError";
  constructor(
    message: string,
    readonly waitedMs: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Error codes of a request that went out and got no answer: axios's timeout (ECONNABORTED, or ETIMEDOUT), a
 * connection reset or broken pipe. ECONNREFUSED is not one of them: that request never left.
 */
const NO_ANSWER_CODES = new Set(["ECONNABORTED", "ETIMEDOUT", "ECONNRESET", "EPIPE"]);

/**
 * A provider SDK's error as a NoAnswerError when the request timed out (axios's codes, node-fetch's AbortError)
 * or lost its connection after it went out; any other error unchanged.
 */
export function unanswered(err: unknown, provider: string, timeoutMs: number): unknown {
  const { code, name, message } = (err ?? {}) as { code?: unknown; name?: unknown; message?: unknown };
  if (name === "AbortError" || (typeof code === "string" && NO_ANSWER_CODES.has(code))) {
    return new NoAnswerError(
      `${provider}: no answer (${String(code ?? name)}): ${String(message)}`,
      timeoutMs,
      {
        cause: err,
      },
    );
  }
  return err;
}
