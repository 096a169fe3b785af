import {
  CreateSchedulerScheduleBody,
  FiredSlot,
  IdParams,
  ListQuery,
  Paginated,
  SchedulerSchedule,
  SchedulerScheduleListQuery,
  SchedulerScheduleRun,
  UpdateSchedulerScheduleBody,
} from "@tidings/contracts";
import { type Api, errorResponses, pageParams, toPage } from "@tidings/service-kit";
import Type from "typebox";
import type { Actor } from "../services/schedule-rules.ts";
import {
  createSchedule,
  deleteSchedule,
  fireNow,
  getSchedule,
  listRuns,
  listSchedules,
  updateSchedule,
} from "../services/schedules.ts";
import type { RouteDeps } from "./deps.ts";

const tags = ["schedules"];

export function scheduleRoutes(app: Api, { db, clock, guard }: RouteDeps): void {
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
    async (request) => getSchedule(db, request.params.id),
  );

  // PATCH and Seed's PUT change the same way; PUT's body is a create's.
  const update = async (request: { params: IdParams; body: UpdateSchedulerScheduleBody; principal: Actor }) =>
    updateSchedule(db, request.params.id, request.body, request.principal, clock(), guard);

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
    update,
  );

  app.put(
    "/api/v1/schedule/:id/",
    {
      schema: {
        tags,
        summary: "Replace a schedule (Seed's PUT: the fields given change, as with PATCH; an empty body too)",
        params: IdParams,
        body: CreateSchedulerScheduleBody,
        response: { 200: SchedulerSchedule, ...errorResponses },
      },
    },
    update,
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
      await deleteSchedule(db, request.params.id);
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
        response: { 202: FiredSlot, ...errorResponses },
      },
    },
    async (request, reply) => {
      return reply.code(202).send(await fireNow(db, request.params.id, request.principal, clock()));
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
      const { count, results } = await listRuns(db, request.params.id, page);
      return toPage(request, page, count, results);
    },
  );
}
