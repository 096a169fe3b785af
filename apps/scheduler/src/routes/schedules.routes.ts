import {
  CreateSchedulerScheduleBody,
  FiredSlot,
  IdParams,
  SchedulerSchedule,
  SchedulerScheduleListQuery,
  SchedulerScheduleRun,
  UpdateSchedulerScheduleBody,
} from "@tidings/contracts";
import { type Api, actionRoute, crudRoutes, pageRoute, routeError } from "@tidings/service-kit";
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
  // PATCH and Seed's PUT change the same way; PUT's body is a create's.
  const update = (id: string, body: UpdateSchedulerScheduleBody, request: { principal: Actor }) =>
    updateSchedule(db, id, body, request.principal, clock(), guard);

  crudRoutes(app, {
    path: "/api/v1/schedule/",
    tags,
    params: IdParams,
    item: SchedulerSchedule,
    create: {
      summary:
        "Create a cron and/or interval schedule; each slot fires once (schedule.fired or an HTTP POST)",
      description:
        "`{cron_definition?, interval_definition?, timezone?, catch_up?, enabled?, payload?, endpoint?, auth_token?, timeout_seconds?}`: at least one of cron and interval. At each due slot, exactly once however many workers run, it publishes `schedule.fired` or, with an `endpoint`, POSTs `payload` to it (to public addresses only, unless listed). 201 with a `Location`.",
      body: CreateSchedulerScheduleBody,
      run: async (body, request) => {
        const item = await createSchedule(db, body, request.principal, clock(), guard);
        return { item, location: item.id };
      },
    },
    list: {
      summary: "List schedules, newest first",
      description:
        "Filter `enabled`; `limit`/`offset` pages with a count. Schedules mirrored from content carry their `source`.",
      query: SchedulerScheduleListQuery,
      run: (query, page) => listSchedules(db, query, page),
    },
    get: {
      summary: "Get one schedule",
      description:
        "The schedule with its definitions, time zone, target and next due slot; 404 for an unknown id.",
      run: (id) => getSchedule(db, id),
    },
    update: {
      summary: "Change a schedule; a new cron, interval or time zone changes its future slots",
      description:
        "Changes the fields given; `null` clears cron, interval, endpoint or token. An endpoint on another origin (scheme, host, port) clears the stored token unless `auth_token` is given too. A new cron, interval or time zone moves its future slots only; slots already fired stay recorded. A schedule mirrored from content (`source`) follows its content schedule: 409 SCHEDULER_SCHEDULE_MIRRORED.",
      body: UpdateSchedulerScheduleBody,
      run: update,
    },
    replace: {
      summary: "Replace a schedule (Seed's PUT: the fields given change, as with PATCH; an empty body too)",
      description:
        "Seed's PUT: takes a create's body and changes the fields given, as PATCH does (409 for a schedule mirrored from content).",
      body: CreateSchedulerScheduleBody,
      run: update,
    },
    remove: {
      summary: "Delete a schedule with its run history and failures",
      description:
        "204; its runs and failed deliveries are deleted too. A schedule mirrored from content is disabled when its content schedule is deleted, not here: 409 SCHEDULER_SCHEDULE_MIRRORED.",
      run: (id) => deleteSchedule(db, id),
    },
  });

  actionRoute(app, "/api/v1/schedule/:id/fire/", {
    tags,
    summary: "Fire one slot now (recorded as a manual run): schedule.fired, or an HTTP POST",
    description:
      "Fires the schedule once at a manual slot now, recorded as a manual run: `schedule.fired`, or the HTTP POST to its endpoint; 202 `{slot}`. A schedule publishing a command, or mirrored from content (its slot sends to every subscription on it), fires for an admin token only (403).",
    params: IdParams,
    status: 202,
    answer: FiredSlot,
    responses: {
      422: routeError("SCHEDULER_PAYLOAD_INVALID: the schedule's payload cannot be rendered for this slot."),
    },
    run: (request) => fireNow(db, request.params.id, request.principal, clock()),
  });

  pageRoute(app, "/api/v1/schedule/:id/runs/", {
    tags,
    summary: "A schedule's fired slots, newest first (manual fires flagged)",
    description:
      "Run history, newest first, paginated: `{id, schedule, slot, trigger, manual, fired_at, delivered_at}`.",
    params: IdParams,
    item: SchedulerScheduleRun,
    run: (request, page) => listRuns(db, request.params.id, page),
  });
}
