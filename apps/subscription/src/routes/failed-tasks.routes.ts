import { listDeadLetters, replayDeadLetters } from "@tidings/amqp";
import {
  ListQuery,
  Paginated,
  RequeuedSubscriptionTasks,
  SubscriptionFailedTask,
  validatorFor,
} from "@tidings/contracts";
import { type Api, actionRoute, errorResponses, pageParams, toPage } from "@tidings/service-kit";
import type { RouteDeps } from "./deps.ts";

/** Dead letters looked at for one listing. */
const SCAN = 1_000;
const isSendNext = validatorFor("subscription.send-next");

/**
 * Seed's failed tasks, backed by the dead-letter queue of `subscription.send-next`: every subscription of
 * a dead-lettered send command is one failed task. POST moves them all back for another set of attempts.
 */
export function failedTaskRoutes(app: Api, { broker }: RouteDeps): void {
  const tags = ["subscriptions"];
  app.get(
    "/api/v1/failed-tasks/",
    {
      schema: {
        tags,
        summary: "Sends that failed after every retry (one row per subscription of a dead-lettered command)",
        description:
          "Seed's failed tasks: each send command that was dead-lettered, one row per subscription it was for, with why it failed; paginated.",
        querystring: ListQuery,
        response: { 200: Paginated(SubscriptionFailedTask), ...errorResponses },
      },
    },
    async (request) => {
      const letters = await listDeadLetters(broker, "subscription.send-next", { limit: SCAN });
      const tasks = letters.flatMap((letter) =>
        (isSendNext(letter.payload) ? letter.payload.subscription_ids : ["unknown"]).map((subscription) => ({
          subscription,
          task_id: letter.messageId,
          initiated_at: letter.failedAt,
          reason: letter.error,
        })),
      );
      const page = pageParams(request.query);
      return toPage(request, page, tasks.length, tasks.slice(page.offset, page.offset + page.limit));
    },
  );

  actionRoute(app, "/api/v1/failed-tasks/", {
    tags,
    summary: "Requeue every failed send for another full set of attempts",
    description:
      "Every failed send is queued again for another full set of attempts and its failure record deleted.",
    status: 201,
    answer: RequeuedSubscriptionTasks,
    run: async () => ({
      requeued_failed_tasks: true,
      requeued: await replayDeadLetters(broker, "subscription.send-next"),
    }),
  });
}
