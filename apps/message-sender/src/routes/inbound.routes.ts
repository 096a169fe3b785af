import {
  CreateInboundBody,
  IdParams,
  Inbound,
  InboundAccepted,
  InboundListQuery,
  Paginated,
  Twiml,
  WebhookParams,
} from "@tidings/contracts";
import { type Api, CALLBACK_BODY_LIMIT, errorResponses, pageParams, toPage } from "@tidings/service-kit";
import { viewerOf, visibleInbounds } from "../api-keys/visibility.ts";
import { EMPTY_TWIML, receiveTwilioInbound } from "../channels/twilio/webhooks.ts";
import { TwilioInboundWebhook } from "../channels/twilio/wire.ts";
import { receiveVonageInbound } from "../channels/vonage/webhooks.ts";
import { VonageInboundWebhook } from "../channels/vonage/wire.ts";
import type { WebhookDeps } from "../channels/webhooks.ts";
import { getInbound, listInbounds, receiveInbound } from "../inbound/inbound.ts";
import { twilioSignedRequest } from "./signed-request.ts";

/**
 * Inbound messages: Twilio's and Vonage's webhooks (signed, public; verified before anything is read from the
 * database) and Seed's `/api/v1/inbound/` (token).
 */
export function inboundRoutes(app: Api, deps: WebhookDeps): void {
  const { db } = deps;
  app.post(
    "/api/v1/inbound/twilio/:channel",
    {
      config: { public: true },
      bodyLimit: CALLBACK_BODY_LIMIT,
      schema: {
        tags: ["inbound"],
        summary: "Twilio incoming-message webhook (verified by X-Twilio-Signature); answers empty TwiML",
        params: WebhookParams,
        body: TwilioInboundWebhook,
        response: { 200: Twiml, ...errorResponses },
      },
    },
    async (request, reply) => {
      const signed = twilioSignedRequest(request);
      await receiveTwilioInbound(deps, request.params.channel, signed, request.log, request.id);
      return reply.type("text/xml").send(EMPTY_TWIML);
    },
  );

  app.post(
    "/api/v1/inbound/vonage/:channel",
    {
      config: { public: true },
      bodyLimit: CALLBACK_BODY_LIMIT,
      schema: {
        tags: ["inbound"],
        summary: "Vonage inbound SMS webhook (verified by its sig parameter)",
        params: WebhookParams,
        body: VonageInboundWebhook,
        response: { 200: InboundAccepted, ...errorResponses },
      },
    },
    async (request) => {
      await receiveVonageInbound(deps, request.params.channel, request.body, request.log, request.id);
      return { accepted: true };
    },
  );

  app.post(
    "/api/v1/inbound/",
    {
      schema: {
        tags: ["inbound"],
        summary: "Store an inbound message (Vumi message fields; transport_name is the channel)",
        body: CreateInboundBody,
        response: { 201: Inbound, 200: Inbound, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { inbound, created } = await receiveInbound(
        deps,
        {
          channel: body.transport_name ?? null,
          messageId: body.message_id ?? null,
          inReplyTo: body.in_reply_to ?? null,
          fromAddr: body.from_addr,
          toAddr: body.to_addr ?? "",
          content: body.content ?? null,
          helperMetadata: {
            ...(body.helper_metadata ?? {}),
            ...(body.session_event ? { session_event: body.session_event } : {}),
            ...(body.transport_type ? { transport_type: body.transport_type } : {}),
          },
        },
        request.log,
        { userId: request.principal.userId, correlationId: request.id },
      );
      return reply.code(created ? 201 : 200).send(inbound);
    },
  );

  app.get(
    "/api/v1/inbound/",
    {
      schema: {
        tags: ["inbound"],
        summary: "List inbound messages, newest first",
        querystring: InboundListQuery,
        response: { 200: Paginated(Inbound), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageParams(request.query);
      const visible = await visibleInbounds(db, viewerOf(request));
      const { count, results } = await listInbounds(db, request.query, page, visible);
      return toPage(request, page, count, results);
    },
  );

  app.get(
    "/api/v1/inbound/:id/",
    {
      schema: {
        tags: ["inbound"],
        summary: "Get one inbound message",
        params: IdParams,
        response: { 200: Inbound, ...errorResponses },
      },
    },
    async (request) => getInbound(db, request.params.id, await visibleInbounds(db, viewerOf(request))),
  );
}
