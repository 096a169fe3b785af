import { catalog, type MessageName, namesFor, routingKeysFor } from "@tidings/contracts";
import amqp from "amqplib";
import pg from "pg";
import { AMQP_URL } from "./env.ts";

export interface CapturedMessage {
  name: string;
  messageId: string;
  correlationId: string | undefined;
  payload: unknown;
}

export interface Capture {
  messages: CapturedMessage[];
  /** Messages of one name, payloads typed by the caller. */
  named<T = unknown>(name: string): T[];
  stop(): Promise<void>;
}

/**
 * Records every message published with one of `names` in a namespace, through a temporary exclusive queue
 * bound beside the real ones (it takes nothing from them).
 */
export async function captureMessages(namespace: string, names: readonly MessageName[]): Promise<Capture> {
  const topology = namesFor(namespace);
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true });
  for (const name of names) {
    const exchange = topology.exchange(catalog[name].exchange);
    await channel.assertExchange(exchange, "topic", { durable: true });
    for (const key of routingKeysFor(name)) {
      await channel.bindQueue(queue, exchange, key);
    }
  }
  const messages: CapturedMessage[] = [];
  await channel.consume(
    queue,
    (msg) => {
      if (msg) {
        messages.push({
          name: String(msg.properties.type),
          messageId: String(msg.properties.messageId),
          correlationId: msg.properties.correlationId,
          payload: JSON.parse(msg.content.toString("utf8")),
        });
      }
    },
    { noAck: true },
  );
  return {
    messages,
    named: <T>(name: string) => messages.filter((m) => m.name === name).map((m) => m.payload as T),
    stop: () => connection.close(),
  };
}

/** The notifications a database's listeners hear on one channel (their payloads), as they arrive. */
export interface HeardNotifications {
  heard: string[];
  stop(): Promise<void>;
}

/** Listens on `channel` in the database at `databaseUrl` on a connection of its own, recording what it hears. */
export async function captureNotifications(
  databaseUrl: string,
  channel: string,
): Promise<HeardNotifications> {
  const client = new pg.Client({ connectionString: databaseUrl });
  const heard: string[] = [];
  client.on("notification", (n) => heard.push(n.payload ?? ""));
  await client.connect();
  await client.query(`LISTEN ${channel}`);
  return { heard, stop: () => client.end() };
}
