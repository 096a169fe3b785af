import { FailedTask, FailedTasksRequeued, IntIdParams } from "@tidings/contracts";
import { type Api, errorResponses, pageRoute } from "@tidings/service-kit";
import { viewerOf, visibleOutbounds } from "../api-keys/visibility.ts";
import type { Db } from "../db.ts";
import { getFailedTask, listFailedTasks, requeueFailedTasks } from "../failed-tasks/failed-tasks.ts";

export function failedTaskRoutes(app: Api, db: Db): void {
  pageRoute(app, "/api/v1/failed-tasks/", {
    tags: ["failed-tasks"],
    summary: "Outbounds not sent after every attempt",
    description:
      "`{id, outbound, reason, attempts, initiated_at}` per outbound that failed its last attempt, paginated.",
    item: FailedTask,
    run: (request, page) => listFailedTasks(db, page, visibleOutbounds(viewerOf(request))),
  });

  app.get(
    "/api/v1/failed-tasks/:id/",
    {
      schema: {
        tags: ["failed-tasks"],
        summary: "One failed task",
        description: "A failed task by id: the outbound, why it failed and after how many attempts.",
        params: IntIdParams,
        response: { 200: FailedTask, ...errorResponses },
      },
    },
    async (request) => getFailedTask(db, request.params.id, visibleOutbounds(viewerOf(request))),
  );

  app.post(
    "/api/v1/failed-tasks/",
    {
      // Requeues everyone's failed sends, to real providers: live keys only.
      config: { liveKeysOnly: true },
      schema: {
        tags: ["failed-tasks"],
        summary: "Requeue every failed task",
        description:
          "Each failed outbound moves back to `queued` with a fresh `outbound.send` (never one a provider already accepted) and its failure record is deleted.",
        response: { 201: FailedTasksRequeued, ...errorResponses },
      },
    },
    async (request, reply) => {
      await requeueFailedTasks(db, request.id);
      return reply.code(201).send({ requeued_failed_tasks: true });
    },
  );
}
