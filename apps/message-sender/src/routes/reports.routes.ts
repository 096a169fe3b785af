import {
  AggregateOutboundsBody,
  ArchivedDay,
  ArchiveOutboundsBody,
  DailyChannelStatusCounts,
  DailyStatusCounts,
  OutboundsAggregated,
  OutboundsArchived,
  StatusCountsQuery,
} from "@tidings/contracts";
import {
  type Api,
  actionRoute,
  errorResponses,
  pageRoute,
  requireAdmin,
  routeError,
} from "@tidings/service-kit";
import type { Db } from "../db.ts";
import { archiveOutbounds, listArchivedDays } from "../reports/archives.ts";
import { aggregateOutbounds, channelStatusCounts, statusCounts } from "../reports/reports.ts";

export function reportRoutes(app: Api, db: Db, archiveDir: string | undefined): void {
  app.get(
    "/api/v1/outbound/status_counts/",
    {
      schema: {
        tags: ["reports"],
        summary: "Outbounds per day (UTC) and status",
        description:
          "`[{date, status, count}]` per UTC day of `created_at` and status, `from`..`to` inclusive; by default the 30 days up to today, at most 366 days.",
        querystring: StatusCountsQuery,
        response: { 200: DailyStatusCounts, ...errorResponses },
      },
    },
    async (request) => statusCounts(db, request.query.from, request.query.to),
  );

  app.get(
    "/api/v1/outbound/channel_status_counts/",
    {
      schema: {
        tags: ["reports"],
        summary: "Outbounds per day (UTC), channel and status",
        description:
          "`[{date, channel, status, count}]` per UTC day of `created_at`, channel and status (the status counts split by channel), `from`..`to` inclusive; by default the 30 days up to today, at most 366 days.",
        querystring: StatusCountsQuery,
        response: { 200: DailyChannelStatusCounts, ...errorResponses },
      },
    },
    async (request) => channelStatusCounts(db, request.query.from, request.query.to),
  );

  actionRoute(app, "/api/v1/aggregate-outbounds/", {
    tags: ["reports"],
    summary: "Recompute the daily aggregates of outbounds (Seed)",
    description:
      "Seed's aggregate task: `{start?, end?}` (dates; default the 30 days up to today) recomputes the daily aggregates of those days (days already archived keep theirs); 202 `{aggregate_outbounds: true}`.",
    body: AggregateOutboundsBody,
    status: 202,
    answer: OutboundsAggregated,
    run: async (request) => {
      await aggregateOutbounds(db, request.body.start, request.body.end);
      return { aggregate_outbounds: true };
    },
  });

  app.post(
    "/api/v1/archive-outbounds/",
    {
      // Archives and purges everyone's outbounds: live keys only.
      config: { liveKeysOnly: true },
      schema: {
        tags: ["reports"],
        summary:
          "Archive days of final outbounds to ARCHIVE_DIR as gzipped NDJSON, then purge them (Seed; admin)",
        description:
          "Seed's archive task: `{start, end}` (dates, `end` before today): each day not archived yet is written to ARCHIVE_DIR and its outbounds purged; 202 with the days archived. The admin token's only (every user's outbounds of those days leave the API): 403 FORBIDDEN for any other key. 409 MESSAGE_SENDER_ARCHIVE_NOT_CONFIGURED without ARCHIVE_DIR.",
        body: ArchiveOutboundsBody,
        response: {
          202: OutboundsArchived,
          ...errorResponses,
          409: routeError("MESSAGE_SENDER_ARCHIVE_NOT_CONFIGURED: ARCHIVE_DIR is not set."),
        },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const { start, end } = request.body;
      const { archived } = await archiveOutbounds(db, archiveDir, start, end, request.log);
      return reply.code(202).send({ archived_outbounds: true, days: archived });
    },
  );

  pageRoute(app, "/api/v1/archive-outbounds/", {
    tags: ["reports"],
    summary: "The days archived",
    description:
      "`{date, archive, count, archived_at}` per day archived by `POST /api/v1/archive-outbounds/` (the file's name in ARCHIVE_DIR and the outbounds written to it), newest day first, paginated.",
    item: ArchivedDay,
    run: (_request, page) => listArchivedDays(db, page),
  });
}
