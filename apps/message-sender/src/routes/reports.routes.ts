import {
  AggregateOutboundsBody,
  ArchiveOutboundsBody,
  DailyStatusCounts,
  OutboundsAggregated,
  OutboundsArchived,
  StatusCountsQuery,
} from "@tidings/contracts";
import { type Api, errorResponses } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import { aggregateOutbounds, archiveOutbounds, statusCounts } from "../reports/reports.ts";

export function reportRoutes(app: Api, db: Db, archiveDir: string | undefined): void {
  app.get(
    "/api/v1/outbound/status_counts/",
    {
      schema: {
        tags: ["reports"],
        summary: "Outbounds per day (UTC) and status",
        querystring: StatusCountsQuery,
        response: { 200: DailyStatusCounts, ...errorResponses },
      },
    },
    async (request) => statusCounts(db, request.query.from, request.query.to),
  );

  app.post(
    "/api/v1/aggregate-outbounds/",
    {
      schema: {
        tags: ["reports"],
        summary: "Recompute the daily aggregates of outbounds (Seed)",
        body: AggregateOutboundsBody,
        response: { 202: OutboundsAggregated, ...errorResponses },
      },
    },
    async (request, reply) => {
      await aggregateOutbounds(db, request.body.start, request.body.end);
      return reply.code(202).send({ aggregate_outbounds: true });
    },
  );

  app.post(
    "/api/v1/archive-outbounds/",
    {
      schema: {
        tags: ["reports"],
        summary: "Archive days of final outbounds to ARCHIVE_DIR as gzipped NDJSON, then purge them (Seed)",
        body: ArchiveOutboundsBody,
        response: {
          202: OutboundsArchived,
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { start, end } = request.body;
      const { archived } = await archiveOutbounds(db, archiveDir, start, end, request.log);
      return reply.code(202).send({ archived_outbounds: true, days: archived });
    },
  );
}
