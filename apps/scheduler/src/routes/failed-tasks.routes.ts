import { IdParams, RequeuedFailedTasks, SchedulerFailedTask } from "@tidings/contracts";
import { type Api, actionRoute, errorResponses, pageRoute } from "@tidings/service-kit";
import { getFailedTask, listFailedTasks, requeueFailedTasks } from "../services/delivery.ts";
import type { RouteDeps } from "./deps.ts";

const tags = ["failed-tasks"];

export function failedTaskRoutes(app: Api, { db }: RouteDeps): void {
  pageRoute(app, "/api/v1/failed-tasks/", {
    tags,
    summary: "HTTP deliveries that failed on their last attempt, newest first",
    description:
      "Failed HTTP deliveries of schedules, newest first, paginated: `{id, schedule, task_id, initiated_at, reason, attempts, created_at}`.",
    item: SchedulerFailedTask,
    run: (_request, page) => listFailedTasks(db, page),
  });

  app.get(
    "/api/v1/failed-tasks/:id/",
    {
      schema: {
        tags,
        summary: "Get one failed HTTP delivery",
        description: "One failed delivery: its schedule, why it failed and after how many attempts.",
        params: IdParams,
        response: { 200: SchedulerFailedTask, ...errorResponses },
      },
    },
    async (request) => getFailedTask(db, request.params.id),
  );

  actionRoute(app, "/api/v1/failed-tasks/", {
    tags,
    summary: "Requeue every failed delivery with its schedule's current data, deleting the failures",
    description:
      "Each failure is delivered again with its schedule's current data and deleted; 201 `{requeued_failed_tasks: true}`.",
    status: 201,
    answer: RequeuedFailedTasks,
    run: async () => {
      await requeueFailedTasks(db);
      return { requeued_failed_tasks: true };
    },
  });
}
