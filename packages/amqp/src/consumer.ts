import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import {
  assertPayload,
  baseRetryDelay,
  DELAY_HEADER,
  delayLevelFor,
  InvalidPayloadError,
  isMessageName,
  type MessageName,
  maskPii,
  type Names,
  type Payload,
  type QueueName,
  queues,
  type RetryPolicy,
  retryDelay,
} from "@tidings/contracts";
import type { ChannelModel, ConfirmChannel, ConsumeMessage } from "amqplib";
import type { Logger } from "pino";
import { AckBatcher } from "./acks.ts";
import { NonRetryableError, RetryNotBeforeError } from "./errors.ts";
import { lazyChild } from "./lazy-logger.ts";
import { publishConfirmed } from "./publish.ts";
import { handleDuration, handledMessages, traceContextFrom, tracer } from "./telemetry.ts";

export const ATTEMPT_HEADER = "x-tidings-attempt";
export const ERROR_HEADER = "x-tidings-error";
export const FAILED_AT_HEADER = "x-tidings-failed-at";
export const QUEUE_HEADER = "x-tidings-queue";

export interface MessageContext {
  queue: QueueName;
  name: MessageName;
  messageId: string;
  correlationId: string | undefined;
  /** 1 on the first delivery, n on the n-th retry + 1. */
  attempt: number;
  log: Logger;
}

export type Handler<N extends MessageName> = (payload: Payload<N>, ctx: MessageContext) => Promise<void>;
export type Handlers<N extends MessageName> = { [K in N]: Handler<K> };

export interface ConsumeOptions {
  /** Unacknowledged messages the broker hands this consumer at once. */
  prefetch?: number;
  /** Overrides the queue's retry policy from the contracts (tests use short delays). */
  retry?: Partial<RetryPolicy>;
}

export const DEFAULT_PREFETCH = 100;

/** What became of a delivery (the label of tidings_amqp_messages_handled_total). */
type Outcome = "ack" | "retry" | "dead_letter" | "unacked";

/**
 * Consumes one queue on its own confirm channel. A message is acked only after its handler resolved (so
 * after the handler's database commit); the acks of handlers that finish together are coalesced (AckBatcher).
 * Invalid payloads and NonRetryableErrors go to `<queue>.dlq` at once; other failures wait in the namespace's delay queues with growing delays, and go to the DLQ after `maxAttempts`.
 * Retry and DLQ copies are confirmed before the original is acked, so a message is never lost.
 */
export class Consumer<Q extends QueueName> {
  private channel: ConfirmChannel | undefined;
  /** The acks of the current channel (dropped with it). */
  private acks: AckBatcher | undefined;
  private consumerTag: string | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  private readonly retry: RetryPolicy;
  private readonly log: Logger;

  constructor(
    private readonly names: Names,
    readonly queue: Q,
    private readonly handlers: Handlers<MessageName>,
    private readonly options: ConsumeOptions,
    logger: Logger,
  ) {
    this.retry = { ...queues[queue].retry, ...options.retry };
    this.log = logger.child({ queue });
  }

  /** Called on every (re)connect. */
  async attach(connection: ChannelModel): Promise<void> {
    if (this.stopped) {
      return;
    }
    const channel = await connection.createConfirmChannel();
    const prefetch = this.options.prefetch ?? DEFAULT_PREFETCH;
    const acks = new AckBatcher(channel, prefetch);
    channel.on("error", (err: Error) => this.log.warn({ err }, "amqp consumer channel error"));
    // A closed channel's unacked deliveries go back to the queue; their tags mean nothing on the next channel.
    channel.on("close", () => acks.close());
    await channel.prefetch(prefetch);
    const { consumerTag } = await channel.consume(this.names.queue(this.queue), (msg) => {
      if (msg) {
        acks.delivered(msg);
        this.track(this.handle(channel, acks, msg));
      } else {
        // The broker cancelled this consumer (its queue was deleted, a node left): subscribe again.
        this.log.warn("consumer cancelled by the broker; resubscribing");
        this.detach();
        void channel.close().catch(() => undefined);
        setTimeout(
          () =>
            void this.attach(connection).catch((err: unknown) =>
              this.log.error({ err }, "resubscribe failed"),
            ),
          1_000,
        ).unref();
      }
    });
    this.channel = channel;
    this.acks = acks;
    this.consumerTag = consumerTag;
  }

  /** The connection is gone: its channel and unacked messages with it (the broker redelivers them). */
  detach(): void {
    this.acks?.close();
    this.acks = undefined;
    this.channel = undefined;
    this.consumerTag = undefined;
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /**
   * Handles one delivery in a consumer span, continuing the trace its publisher put in the headers (traceparent),
   * and counts its outcome.
   */
  private handle(channel: ConfirmChannel, acks: AckBatcher, msg: ConsumeMessage): Promise<void> {
    const type = String(msg.properties.type ?? msg.fields.routingKey);
    const parent = traceContextFrom(msg.properties.headers);
    return tracer.startActiveSpan(
      `${this.queue} process`,
      { kind: SpanKind.CONSUMER },
      parent,
      async (span) => {
        span.setAttributes({
          "messaging.system": "rabbitmq",
          "messaging.destination.name": this.queue,
          "messaging.message.type": type,
        });
        const stopTimer = handleDuration.startTimer({ queue: this.queue });
        const outcome = await this.run(channel, acks, msg, type);
        stopTimer();
        handledMessages.inc({ queue: this.queue, outcome });
        if (outcome !== "ack") {
          span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
        }
        span.end();
      },
    );
  }

  private async run(
    channel: ConfirmChannel,
    acks: AckBatcher,
    msg: ConsumeMessage,
    type: string,
  ): Promise<Outcome> {
    const attempt = Number(msg.properties.headers?.[ATTEMPT_HEADER] ?? 1);
    const messageId = String(msg.properties.messageId ?? "");
    const log = lazyChild(this.log, {
      messageId,
      type,
      correlationId: msg.properties.correlationId,
      attempt,
    });
    try {
      const { name, payload } = this.decode(type, msg);
      const ctx: MessageContext = {
        queue: this.queue,
        name,
        messageId,
        correlationId: msg.properties.correlationId,
        attempt,
        log,
      };
      await (this.handlers[name] as Handler<MessageName>)(payload, ctx);
    } catch (err) {
      return this.fail(channel, acks, msg, attempt, err, log).catch((publishErr: unknown) => {
        // Not acked: the broker redelivers it when this channel closes.
        log.error({ err: publishErr }, "could not move a failed message to its retry or dead-letter queue");
        return "unacked" as const;
      });
    }
    // Acked with the others that finish in this turn of the event loop; not at all if the channel has died
    // meanwhile (the broker redelivers it, and the handler's idempotency makes the redelivery a no-op).
    return acks.ack(msg) ? "ack" : "unacked";
  }

  private decode(type: string, msg: ConsumeMessage): { name: MessageName; payload: Payload<MessageName> } {
    if (!isMessageName(type) || !Object.hasOwn(this.handlers, type)) {
      throw new NonRetryableError(`no handler for message type "${type}" on ${this.queue}`);
    }
    if (!msg.properties.messageId) {
      throw new NonRetryableError("message has no messageId");
    }
    let body: unknown;
    try {
      body = JSON.parse(msg.content.toString("utf8"));
    } catch {
      throw new NonRetryableError("message body is not JSON");
    }
    return { name: type, payload: assertPayload(type, body) };
  }

  private async fail(
    channel: ConfirmChannel,
    acks: AckBatcher,
    msg: ConsumeMessage,
    attempt: number,
    err: unknown,
    log: Logger,
  ): Promise<Outcome> {
    const permanent = err instanceof NonRetryableError || err instanceof InvalidPayloadError;
    // An SDK's error may come without a message (twilio's RestException for an answer without one). The reason is
    // kept with the message and shown by the dead-letter routes: phone numbers and emails in it are masked.
    const reason = (err instanceof Error && typeof err.message === "string" && err.message) || String(err);
    const headers = { ...msg.properties.headers, [ERROR_HEADER]: maskPii(reason).slice(0, 1000) };
    if (!permanent && attempt < this.retry.maxAttempts) {
      const earliest = err instanceof RetryNotBeforeError ? err.delayMs : 0;
      const { level, delay } = retryPlacement(this.retry, attempt, earliest);
      // Through the delay exchange into the level's delay queue; its routing key (this queue's name) takes it back.
      await publishConfirmed(channel, this.names.delayExchange(), this.names.queue(this.queue), msg.content, {
        ...msg.properties,
        headers: { ...headers, [ATTEMPT_HEADER]: attempt + 1, [DELAY_HEADER]: String(level) },
        expiration: String(delay),
      });
      log.warn({ err, delayMs: delay }, "message handling failed; retrying");
      acks.ackNow(msg);
      return "retry";
    }
    await publishConfirmed(channel, "", this.names.deadLetterQueue(this.queue), msg.content, {
      ...msg.properties,
      headers: {
        ...headers,
        [ATTEMPT_HEADER]: attempt,
        [QUEUE_HEADER]: this.queue,
        [FAILED_AT_HEADER]: new Date().toISOString(),
      },
    });
    log.warn({ err, permanent }, "message dead-lettered");
    acks.ackNow(msg);
    return "dead_letter";
  }

  /** Cancel the subscription, let in-flight handlers finish (and ack), then close the channel. */
  async stop(): Promise<void> {
    this.stopped = true;
    const channel = this.channel;
    if (channel && this.consumerTag) {
      await channel.cancel(this.consumerTag).catch(() => undefined);
    }
    await Promise.allSettled([...this.inFlight]);
    this.acks?.flush(true);
    this.detach();
    await channel?.close().catch(() => undefined);
  }
}

/**
 * The delay queue a failed attempt waits in, and for how long: the attempt's own delay, or, when the handler asked to
 * wait at least `earliestMs` (RetryNotBeforeError), at least that. The level is the shortest delay queue that covers
 * the attempt's nominal wait (each level's queue holds waits of about one size, so a long wait never holds up the
 * shorter ones behind it).
 */
function retryPlacement(
  policy: Pick<RetryPolicy, "delaysMs" | "jitter">,
  attempt: number,
  earliestMs: number,
): { level: number; delay: number } {
  const notBefore = earliestMs > 0 ? earliestMs + brokerClockSlack(earliestMs) : 0;
  return {
    level: delayLevelFor(Math.max(baseRetryDelay(policy, attempt), earliestMs)),
    delay: Math.max(retryDelay(policy, attempt), notBefore),
  };
}

/**
 * What a wait measured by the broker may fall short of the same wait on our clock: a quorum queue expires messages by
 * its Erlang clock to the millisecond, and Erlang corrects that clock's rate by up to 1% to follow the system's (a
 * 1.5 s "not before" came back 2 ms early). A "not before" wait is stretched by this much so it holds on our clock.
 */
const brokerClockSlack = (ms: number): number => Math.ceil(ms / 100) + 2;
