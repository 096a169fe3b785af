import {
  CreateSchedulerScheduleBody,
  IdParams,
  ListQuery,
  Paginated,
  SchedulerSchedule,
  SchedulerScheduleListQuery,
  SchedulerScheduleRun,
  UpdateSchedulerScheduleBody,
} from "@tidings/contracts";
import type { Clock } from "@tidings/service-kit";
import { type Api, errorResponses, notFound, pageParams, toPage } from "@tidings/service-kit";
import Type from "typebox";
import type { Db } from "../db.ts";
import type { EndpointGuard } from "../endpoints.ts";
import {
  createSchedule,
  deleteSchedule,
  fireNow,
  getSchedule,
  listRuns,
  listSchedules,
  updateSchedule,
} from "../services/schedules.ts";

const tags = ["schedules"];
const scheduleNotFound = (id: string) => notFound("SCHEDULER_SCHEDULE_NOT_FOUND", `Schedule ${id} not found`);

export function scheduleRoutes(app: Api, db: Db, clock: Clock, guard: EndpointGuard): void {
  app.post(
    "/api/v1/schedule/",
    {
      schema: {
        tags,
        summary:
          "Create a cron and/or interval schedule; each slot fires once (schedule.fired or an HTTP POST)",
        body: CreateSchedulerScheduleBody,
        response: { 201: SchedulerSchedule, ...errorResponses },
      },
    },
    async (request, reply) => {
      const schedule = await createSchedule(db, request.body, request.principal, clock(), guard);
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
      return toPage(request, page, count, results);
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
        summary: "Change a schedule; a new cron, interval or time zone changes its future slots",
        params: IdParams,
        body: UpdateSchedulerScheduleBody,
        response: { 200: SchedulerSchedule, ...errorResponses },
      },
    },
    async (request) =>
      (await updateSchedule(db, request.params.id, request.body, request.principal, clock(), guard)) ??
      Promise.reject(scheduleNotFound(request.params.id)),
  );

  app.delete(
    "/api/v1/schedule/:id/",
    {
      schema: {
        tags,
        summary: "Delete a schedule with its run history and failures",
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      if (!(await deleteSchedule(db, request.params.id))) {
        throw scheduleNotFound(request.params.id);
      }
      return reply.code(204).send(null);
    },
  );

  app.post(
    "/api/v1/schedule/:id/fire/",
    {
      schema: {
        tags,
        summary: "Fire one slot now (recorded as a manual run): schedule.fired, or an HTTP POST",
        params: IdParams,
        response: { 202: Type.Object({ slot: Type.String({ format: "date-time" }) }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const fired = await fireNow(db, request.params.id, request.principal, clock());
      if (!fired) {
        throw scheduleNotFound(request.params.id);
      }
      return reply.code(202).send(fired);
    },
  );

  app.get(
    "/api/v1/schedule/:id/runs/",
    {
      schema: {
        tags,
        summary: "A schedule's fired slots, newest first (manual fires flagged)",
        params: IdParams,
        querystring: ListQuery,
        response: { 200: Paginated(SchedulerScheduleRun), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageParams(request.query);
      const runs = await listRuns(db, request.params.id, page);
      if (!runs) {
        throw scheduleNotFound(request.params.id);
      }
      return toPage(request, page, runs.count, runs.results);
    },
  );
}
