import { type Broker, listDeadLetters, queueStats, replayDeadLetters } from "@tidings/amqp";
import { type QueueName, queuesOf, type Service } from "@tidings/contracts";
import Type from "typebox";
import { notFound } from "./errors.ts";
import { type Api, errorResponses, requireAdmin } from "./routes.ts";

const QueueParams = Type.Object({ queue: Type.String({ maxLength: 200 }) });

const DeadLetter = Type.Object({
  messageId: Type.String(),
  type: Type.String(),
  payload: Type.Unknown(),
  error: Type.Union([Type.String(), Type.Null()]),
  attempts: Type.Integer(),
  failedAt: Type.Union([Type.String(), Type.Null()]),
});

/**
 * Operators' view of this service's dead-letter queues (admin only): how many messages each holds, what
 * they are and why they failed, and replay (all, or chosen message ids) back to the queue for another full
 * set of attempts. Payloads can hold personal data, hence admin only.
 */
export function deadLetterRoutes(app: Api, service: Service, broker: Broker): void {
  const own = queuesOf(service);
  const ownQueue = (name: string): QueueName => {
    const queue = own.find((q) => q === name);
    if (!queue) {
      throw notFound("QUEUE_NOT_FOUND", `${service} consumes no queue named ${name}`);
    }
    return queue;
  };
  const tags = ["operations"];

  app.get(
    "/api/v1/dead-letters/",
    {
      schema: {
        tags,
        summary: "This service's queues: their backlog, consumers and dead letters (admin)",
        description:
          "Every queue this service consumes, with the messages waiting in it (`messages`: ready, not yet taken by a consumer), its `consumers`, and the number of messages in its dead-letter queue (`dead_letters`): the messages that failed every attempt. Payloads can hold personal data, hence admin only.",
        response: {
          200: Type.Array(
            Type.Object({
              queue: Type.String(),
              messages: Type.Integer(),
              consumers: Type.Integer(),
              dead_letters: Type.Integer(),
            }),
          ),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      requireAdmin(request);
      return (await queueStats(broker, own)).map((q) => ({
        queue: q.queue,
        messages: q.messages,
        consumers: q.consumers,
        dead_letters: q.deadLetters,
      }));
    },
  );

  app.get(
    "/api/v1/dead-letters/:queue/",
    {
      schema: {
        tags,
        summary: "The dead letters of one queue, oldest first, left in place (admin)",
        description:
          "Peeks at the queue's dead letters without removing them: each with its message id, routing key, payload and why it failed (the last error and the number of attempts).",
        params: QueueParams,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        }),
        response: { 200: Type.Array(DeadLetter), ...errorResponses },
      },
    },
    async (request) => {
      requireAdmin(request);
      return listDeadLetters(broker, ownQueue(request.params.queue), { limit: request.query.limit });
    },
  );

  app.post(
    "/api/v1/dead-letters/:queue/replay/",
    {
      schema: {
        tags,
        summary:
          "Move dead letters back to their queue: all of them, or those with the given message ids (admin)",
        description:
          "Republishes the dead letters (all of them, or only the listed message ids) to their queue, where they get another full set of attempts; answers how many were moved.",
        params: QueueParams,
        body: Type.Optional(
          Type.Object(
            { message_ids: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 10_000 })) },
            { additionalProperties: false },
          ),
        ),
        response: { 200: Type.Object({ replayed: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => {
      requireAdmin(request);
      const replayed = await replayDeadLetters(broker, ownQueue(request.params.queue), {
        messageIds: request.body?.message_ids,
      });
      return { replayed };
    },
  );
}
