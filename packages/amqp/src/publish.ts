import type { ConfirmChannel, Options } from "amqplib";

export function messageProperties(
  service: string,
  name: string,
  messageId: string,
  correlationId?: string,
): Options.Publish {
  return {
    persistent: true,
    contentType: "application/json",
    type: name,
    messageId,
    correlationId,
    timestamp: Math.floor(Date.now() / 1000),
    appId: service,
  };
}

/** Publishes on a confirm channel and resolves when the broker has the message (rejects on a nack). */
export function publishConfirmed(
  channel: ConfirmChannel,
  exchange: string,
  routingKey: string,
  body: Buffer,
  properties: Options.Publish,
): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      channel.publish(exchange, routingKey, body, properties, (err) => (err ? reject(err) : resolve()));
    } catch (err) {
      reject(err);
    }
  });
}
