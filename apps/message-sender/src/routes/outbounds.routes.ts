import { CreateOutboundBody, IdParams, Outbound, OutboundListQuery, Paginated } from "@tidings/contracts";
import { type Api, errorResponses, pageParams, toPage } from "@tidings/service-kit";
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
  app.post(
    OUTBOUNDS,
    {
      schema: {
        tags: ["outbound"],
        summary: "Queue a message to send",
        body: CreateOutboundBody,
        response: { 201: Outbound, ...errorResponses },
      },
    },
    async (request, reply) => {
      const outbound = await createOutbound(db, writer, channels, channelIds, request.body, actorOf(request));
      return reply
        .code(201)
        .header("location", `${OUTBOUNDS}${outbound.id}/`)
        .send(linked(request, OUTBOUNDS, outbound));
    },
  );

  app.get(
    OUTBOUNDS,
    {
      schema: {
        tags: ["outbound"],
        summary: "List outbound messages, newest first (Seed's filters and ordering)",
        querystring: OutboundListQuery,
        response: { 200: Paginated(Outbound), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageParams(request.query);
      const { count, results } = await listOutbounds(
        db,
        request.query,
        page,
        visibleOutbounds(viewerOf(request)),
      );
      return toPage(
        request,
        page,
        count,
        results.map((outbound) => linked(request, OUTBOUNDS, outbound)),
      );
    },
  );

  app.get(
    "/api/v1/outbound/:id/",
    {
      schema: {
        tags: ["outbound"],
        summary: "Get one outbound message",
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
