import { CreateOutboundBody, IdParams, Outbound, OutboundListQuery } from "@tidings/contracts";
import { type Api, actionRoute, errorResponses, pageRoute } from "@tidings/service-kit";
import { viewerOf, visibleOutbounds } from "../api-keys/visibility.ts";
import type { ChannelCache } from "../channels/channel-cache.ts";
import type { Db } from "../db.ts";
import { OutboundWriter } from "../intake/outbound-writer.ts";
import { actorOf, createOutbound, getOutbound, listOutbounds } from "../intake/outbounds.ts";
import { linked } from "./links.ts";

const OUTBOUNDS = "/api/v1/outbound/";

export function outboundRoutes(
  app: Api,
  db: Db,
  channels: ChannelCache,
  channelIds: readonly string[],
): void {
  const writer = new OutboundWriter(db);
  actionRoute(app, OUTBOUNDS, {
    tags: ["outbound"],
    summary: "Queue a message to send",
    description:
      "At least one of `to_addr`/`to_identity`, and `metadata` (an object). Stores the outbound (`queued`) with its `outbound.send` command in one statement and answers 201 with it and a `Location`; a worker then sends it through its channel (the default when `channel` is absent) and reports its status. Content or a `template` with `personalisation`; timing with `priority`, `sending_window`, `not_before`, `expires_at` or `ttl_seconds`. A team key may send only to its allow-list (403).",
    body: CreateOutboundBody,
    status: 201,
    answer: Outbound,
    run: async (request) =>
      linked(
        request,
        OUTBOUNDS,
        await createOutbound(db, writer, channels, channelIds, request.body, actorOf(request)),
      ),
    location: (outbound) => `${OUTBOUNDS}${outbound.id}/`,
  });

  pageRoute(app, OUTBOUNDS, {
    tags: ["outbound"],
    summary: "List outbound messages, newest first (Seed's filters and ordering)",
    description:
      "Seed's `{count, next, previous, results}` with `limit` (default 100, max 1000) and `offset`; `next` and `previous` carry a `cursor` (the row they continue from), so a page keeps its place while outbounds are added. Filters `to_addr` and `to_identity` (repeatable), `vumi_message_id`, `delivered`, `attempts`, `version`, `status`, `before`/`after`, `created_at`/`updated_at` with `__gte`, `__gt`, `__lte`, `__lt`; `ordering=created_at` or `-created_at` (the default).",
    query: OutboundListQuery,
    item: Outbound,
    run: async (request, page) => {
      const listed = await listOutbounds(db, request.query, page, visibleOutbounds(viewerOf(request)));
      return { ...listed, results: listed.results.map((outbound) => linked(request, OUTBOUNDS, outbound)) };
    },
  });

  app.get(
    "/api/v1/outbound/:id/",
    {
      schema: {
        tags: ["outbound"],
        summary: "Get one outbound message",
        description:
          "The outbound with its status (queued, submitted, delivered, failed, expired, cancelled), provider id, last error and timestamps; 404 for an unknown id.",
        params: IdParams,
        response: { 200: Outbound, ...errorResponses },
      },
    },
    async (request) =>
      linked(
        request,
        OUTBOUNDS,
        await getOutbound(db, request.params.id, visibleOutbounds(viewerOf(request))),
      ),
  );
}
