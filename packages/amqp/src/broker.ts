import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { context, propagation, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import {
  assertPayload,
  catalog,
  type MessageName,
  type Names,
  namesFor,
  type Payload,
  type QueueMessages,
  type QueueName,
  routingKey,
} from "@tidings/contracts";
import amqp, { type ChannelModel, type ConfirmChannel } from "amqplib";
import type { Logger } from "pino";
import { type ConsumeOptions, Consumer, type Handlers } from "./consumer.ts";
import { messageProperties, publishConfirmed } from "./publish.ts";
import { tracer } from "./telemetry.ts";
import { assertTopology } from "./topology.ts";

export interface BrokerOptions {
  url: string;
  /** Prefixes every exchange and queue (tests use one per file). */
  namespace?: string;
  /** The service that publishes (AMQP `appId`). */
  service: string;
  logger: Logger;
  /** How long a publish waits for a connection before it fails. */
  publishTimeoutMs?: number;
}

export interface PublishOptions {
  messageId?: string;
  correlationId?: string;
  headers?: Record<string, unknown>;
}

const RECONNECT_MAX_DELAY_MS = 5_000;

/**
 * One AMQP connection with automatic recovery: on an unexpected close it reconnects with backoff,
 * re-asserts the topology and restarts every consumer. Publishes are validated and confirmed.
 */
export class Broker {
  readonly names: Names;
  private connection: ChannelModel | undefined;
  private publisher: ConfirmChannel | undefined;
  private readonly consumers = new Set<Consumer<QueueName>>();
  private connecting: Promise<void> | undefined;
  private closing = false;
  private readonly stopSignal = new AbortController();

  private constructor(private readonly options: BrokerOptions) {
    this.names = namesFor(options.namespace);
  }

  static async connect(options: BrokerOptions): Promise<Broker> {
    const broker = new Broker(options);
    await broker.open();
    return broker;
  }

  get log(): Logger {
    return this.options.logger;
  }

  get isConnected(): boolean {
    return this.connection !== undefined && this.publisher !== undefined;
  }

  private async open(): Promise<void> {
    const connection = await amqp.connect(this.options.url, {
      clientProperties: { connection_name: `tidings-${this.options.service}-${process.pid}` },
    });
    try {
      connection.on("error", (err: Error) => this.log.warn({ err }, "amqp connection error"));
      const setup = await connection.createChannel();
      await assertTopology(setup, this.names);
      await setup.close();
      if (this.closing) {
        throw new Error("broker is closing"); // close() came while this (re)connect was under way
      }
      connection.on("close", () => this.onConnectionLost(connection));
      this.connection = connection;
      this.publisher = await this.createPublisher(connection);
      for (const consumer of this.consumers) {
        await consumer.attach(connection);
      }
    } catch (err) {
      // Leave no half-opened connection behind (a reconnect loop would leak one per attempt).
      this.connection = this.connection === connection ? undefined : this.connection;
      this.publisher = this.connection ? this.publisher : undefined;
      await connection.close().catch(() => undefined);
      throw err;
    }
  }

  /** The confirm channel for publishes; a channel-level error (a nack storm, a closed channel) reopens it. */
  private async createPublisher(connection: ChannelModel): Promise<ConfirmChannel> {
    const publisher = await connection.createConfirmChannel();
    publisher.on("error", (err: Error) => this.log.warn({ err }, "amqp publish channel error"));
    publisher.on("close", () => {
      if (this.publisher === publisher) {
        this.publisher = undefined;
        void this.reopenPublisher(connection);
      }
    });
    return publisher;
  }

  private async reopenPublisher(connection: ChannelModel): Promise<void> {
    if (this.closing || this.connection !== connection) {
      return;
    }
    try {
      this.publisher = await this.createPublisher(connection);
    } catch (err) {
      this.log.warn({ err }, "amqp publish channel could not be reopened");
    }
  }

  private onConnectionLost(connection: ChannelModel): void {
    if (this.connection !== connection) {
      return;
    }
    this.connection = undefined;
    this.publisher = undefined;
    for (const consumer of this.consumers) {
      consumer.detach();
    }
    if (this.closing) {
      return;
    }
    this.log.warn("amqp connection lost; reconnecting");
    this.connecting ??= this.reconnect().finally(() => {
      this.connecting = undefined;
    });
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 1; !this.closing; attempt++) {
      // close() aborts the wait, so a stopping process is not held up by the back-off.
      const waited = await sleep(Math.min(RECONNECT_MAX_DELAY_MS, 100 * 2 ** attempt), true, {
        signal: this.stopSignal.signal,
      }).catch(() => false);
      if (!waited || this.closing) {
        return;
      }
      try {
        await this.open();
        this.log.info({ attempt }, "amqp reconnected");
        return;
      } catch (err) {
        this.log.warn({ err, attempt }, "amqp reconnect failed");
      }
    }
  }

  /** A live confirm channel, waiting for a reconnect up to the publish timeout. */
  private async publishChannel(): Promise<ConfirmChannel> {
    const deadline = Date.now() + (this.options.publishTimeoutMs ?? 30_000);
    while (!this.publisher) {
      if (this.closing) {
        throw new Error("broker is closing");
      }
      if (Date.now() > deadline) {
        throw new Error("no amqp connection to publish on");
      }
      await sleep(50);
    }
    return this.publisher;
  }

  /** Validates the payload against the catalog, publishes it persistent, and resolves once the broker confirms. */
  async publish<N extends MessageName>(
    name: N,
    payload: Payload<N>,
    options: PublishOptions = {},
  ): Promise<string> {
    assertPayload(name, payload);
    return this.publishStored(name, payload, options);
  }

  /**
   * Publishes a payload that was validated when it was stored (the outbox validates on enqueue), so the
   * relay's hot path does not check every message a second time. Anything else goes through `publish`.
   */
  async publishStored(name: MessageName, payload: unknown, options: PublishOptions = {}): Promise<string> {
    const messageId = options.messageId ?? randomUUID();
    const exchange = this.names.exchange(catalog[name].exchange);
    // A producer span in the active trace; its context travels in the headers (traceparent) to the consumer.
    return tracer.startActiveSpan(`${name} publish`, { kind: SpanKind.PRODUCER }, async (span) => {
      span.setAttributes({
        "messaging.system": "rabbitmq",
        "messaging.destination.name": exchange,
        "messaging.message.id": messageId,
      });
      try {
        const headers: Record<string, unknown> = { ...options.headers };
        propagation.inject(context.active(), headers);
        const channel = await this.publishChannel();
        await publishConfirmed(
          channel,
          exchange,
          routingKey(name, payload),
          Buffer.from(JSON.stringify(payload)),
          {
            ...messageProperties(this.options.service, name, messageId, options.correlationId),
            headers: Object.keys(headers).length > 0 ? headers : undefined,
          },
        );
        return messageId;
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
        throw err;
      } finally {
        span.end();
      }
    });
  }

  /**
   * Starts consuming a queue. `handlers` must cover every message the topology routes into it, so a
   * missing handler fails to compile.
   */
  async consume<Q extends QueueName>(
    queue: Q,
    handlers: Handlers<QueueMessages<Q>>,
    options: ConsumeOptions = {},
  ): Promise<Consumer<Q>> {
    const consumer = new Consumer(this.names, queue, handlers as Handlers<MessageName>, options, this.log);
    this.consumers.add(consumer as unknown as Consumer<QueueName>);
    if (this.connection) {
      await consumer.attach(this.connection);
    }
    return consumer;
  }

  /** Opens a plain channel (dead-letter tools, tests). The caller closes it. */
  async channel(): Promise<ConfirmChannel> {
    await this.publishChannel();
    if (!this.connection) {
      throw new Error("no amqp connection");
    }
    return this.connection.createConfirmChannel();
  }

  /** Graceful stop: cancel every consumer, wait for in-flight handlers, then close the connection. */
  async close(): Promise<void> {
    if (this.closing) {
      return;
    }
    this.closing = true;
    this.stopSignal.abort();
    await Promise.all([...this.consumers].map((c) => c.stop()));
    const connection = this.connection;
    this.connection = undefined;
    this.publisher = undefined;
    await connection?.close().catch(() => undefined);
  }
}
