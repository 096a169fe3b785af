import {
  CreateSchedulerScheduleBody,
  IdParams,
  Paginated,
  SchedulerSchedule,
  SchedulerScheduleListQuery,
  UpdateSchedulerScheduleBody,
} from "@tidings/contracts";
import { type Api, errorResponses, notFound, pageParams, toPage } from "@tidings/service-kit";
import Type from "typebox";
import type { Db } from "../db.ts";
import {
  createSchedule,
  fireNow,
  getSchedule,
  listSchedules,
  updateSchedule,
} from "../services/schedules.ts";
import type { Clock } from "../ticker.ts";

const tags = ["schedules"];
const scheduleNotFound = (id: string) => notFound("SCHEDULER_SCHEDULE_NOT_FOUND", `Schedule ${id} not found`);

export function scheduleRoutes(app: Api, db: Db, clock: Clock, publicUrl?: string): void {
  app.post(
    "/api/v1/schedule/",
    {
      schema: {
        tags,
        summary: "Create a cron schedule; each slot is published once as schedule.fired",
        body: CreateSchedulerScheduleBody,
        response: { 201: SchedulerSchedule, ...errorResponses },
      },
    },
    async (request, reply) => {
      const schedule = await createSchedule(db, request.body, request.principal.userId, clock());
      return reply.code(201).header("location", `/api/v1/schedule/${schedule.id}/`).send(schedule);
    },
  );

  app.get(
    "/api/v1/schedule/",
    {
      schema: {
        tags,
        summary: "List schedules, newest first",
        querystring: SchedulerScheduleListQuery,
        response: { 200: Paginated(SchedulerSchedule), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageParams(request.query);
      const { count, results } = await listSchedules(db, request.query, page);
      return toPage(request, page, count, results, publicUrl);
    },
  );

  app.get(
    "/api/v1/schedule/:id/",
    { schema: { tags, params: IdParams, response: { 200: SchedulerSchedule, ...errorResponses } } },
    async (request) =>
      (await getSchedule(db, request.params.id)) ?? Promise.reject(scheduleNotFound(request.params.id)),
  );

  app.patch(
    "/api/v1/schedule/:id/",
    {
      schema: {
        tags,
        summary: "Change a schedule; a new cron or time zone changes its future slots",
        params: IdParams,
        body: UpdateSchedulerScheduleBody,
        response: { 200: SchedulerSchedule, ...errorResponses },
      },
    },
    async (request) =>
      (await updateSchedule(db, request.params.id, request.body, request.principal.userId, clock())) ??
      Promise.reject(scheduleNotFound(request.params.id)),
  );

  app.post(
    "/api/v1/schedule/:id/fire/",
    {
      schema: {
        tags,
        summary: "Fire one slot now (recorded as a manual run); publishes schedule.fired",
        params: IdParams,
        response: { 202: Type.Object({ slot: Type.String({ format: "date-time" }) }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const fired = await fireNow(db, request.params.id, clock());
      if (!fired) {
        throw scheduleNotFound(request.params.id);
      }
      return reply.code(202).send(fired);
    },
  );
}
