import { IdParams, ListQuery, Paginated, RequeuedFailedTasks, SchedulerFailedTask } from "@tidings/contracts";
import { type Api, errorResponses, pageParams, toPage } from "@tidings/service-kit";
import { getFailedTask, listFailedTasks, requeueFailedTasks } from "../services/delivery.ts";
import type { RouteDeps } from "./deps.ts";

const tags = ["failed-tasks"];

export function failedTaskRoutes(app: Api, { db }: RouteDeps): void {
  app.get(
    "/api/v1/failed-tasks/",
    {
      schema: {
        tags,
        summary: "HTTP deliveries that failed on their last attempt, newest first",
        querystring: ListQuery,
        response: { 200: Paginated(SchedulerFailedTask), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageParams(request.query);
      const { count, results } = await listFailedTasks(db, page);
      return toPage(request, page, count, results);
    },
  );

  app.get(
    "/api/v1/failed-tasks/:id/",
    { schema: { tags, params: IdParams, response: { 200: SchedulerFailedTask, ...errorResponses } } },
    async (request) => getFailedTask(db, request.params.id),
  );

  app.post(
    "/api/v1/failed-tasks/",
    {
      schema: {
        tags,
        summary: "Requeue every failed delivery with its schedule's current data, deleting the failures",
        response: { 201: RequeuedFailedTasks, ...errorResponses },
      },
    },
    async (_request, reply) => {
      await requeueFailedTasks(db);
      return reply.code(201).send({ requeued_failed_tasks: true });
    },
  );
}
