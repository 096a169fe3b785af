import {
  ChannelInboundBody,
  CreateInboundBody,
  IdParams,
  Inbound,
  InboundAccepted,
  InboundChannelParams,
  InboundListQuery,
  Twiml,
  WebhookParams,
} from "@tidings/contracts";
import {
  type Api,
  CALLBACK_BODY_LIMIT,
  errorResponses,
  type LinkRequest,
  type Principal,
  pageRoute,
} from "@tidings/service-kit";
import { viewerOf, visibleInbounds } from "../api-keys/visibility.ts";
import { EMPTY_TWIML, receiveTwilioInbound } from "../channels/twilio/webhooks.ts";
import { TwilioInboundWebhook } from "../channels/twilio/wire.ts";
import { receiveVonageInbound } from "../channels/vonage/webhooks.ts";
import { VonageInboundWebhook } from "../channels/vonage/wire.ts";
import { receiveVonageWhatsappInbound } from "../channels/vonage-whatsapp/webhooks.ts";
import { VonageMessageInbound } from "../channels/vonage-whatsapp/wire.ts";
import type { WebhookDeps } from "../channels/webhooks.ts";
import { getInbound, listInbounds, type ReceivedMessage, receiveInbound } from "../inbound/inbound.ts";
import { fromJunebug, fromVumi, inboundChannel, isJunebug } from "../inbound/seed-inbound.ts";
import type { Logger } from "../outbound/channel.ts";
import { linked } from "./links.ts";
import { keepRawBody, twilioSignedRequest, vonageSignedEvent } from "./signed-request.ts";

const INBOUNDS = "/api/v1/inbound/";

/**
 * Inbound messages: Twilio's and Vonage's webhooks (signed, public; verified before anything is read from the
 * database) and Seed's `/api/v1/inbound/` and `/api/v1/inbound/{channel_id}/` (token). `channelIds`: the channels
 * given in code.
 */
export function inboundRoutes(app: Api, deps: WebhookDeps, channelIds: readonly string[]): void {
  const { db, channels } = deps;
  /** Stores a Seed inbound (STOP and the other keywords, the sender's identity: as every inbound) and answers it. */
  const store = async (
    request: LinkRequest & { principal: Principal; id: string; log: Pick<Logger, "warn"> },
    message: ReceivedMessage,
  ) => {
    const { inbound, created } = await receiveInbound(deps, message, request.log, {
      userId: request.principal.userId,
      correlationId: request.id,
    });
    return { status: created ? (201 as const) : (200 as const), inbound: linked(request, INBOUNDS, inbound) };
  };

  app.post(
    "/api/v1/inbound/twilio/:channel",
    {
      config: { public: true },
      bodyLimit: CALLBACK_BODY_LIMIT,
      schema: {
        tags: ["inbound"],
        summary:
          "Twilio incoming-message webhook, SMS or WhatsApp (verified by X-Twilio-Signature); answers empty TwiML",
        description:
          "Public: an SMS received on a Twilio number, verified by `X-Twilio-Signature` (403 otherwise). Stored as an inbound (keywords such as STOP recorded as opt-outs at identity); answers empty TwiML so Twilio replies nothing. A twilio-whatsapp channel's messages too: `whatsapp:` is dropped from the numbers (the sender's identity and STOP are those of the number) and the sender's 24-hour window on that channel opens.",
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
        description:
          "Public: an SMS received on a Vonage number (form or JSON), verified by its `sig` parameter as delivery receipts are; stored as an inbound, keywords acted on.",
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
    "/api/v1/inbound/vonage-whatsapp/:channel",
    {
      config: { public: true },
      bodyLimit: CALLBACK_BODY_LIMIT,
      // The body as posted, for its signed hash (payload_hash).
      preParsing: keepRawBody,
      schema: {
        tags: ["inbound"],
        summary: "Vonage Messages API inbound WhatsApp message (verified by its signed JWT)",
        description:
          "Public: a WhatsApp message to a vonage-whatsapp channel's number (JSON), verified by the JWT in `Authorization: Bearer` as its status webhooks are (403 otherwise). Opens the sender's 24-hour window on that channel and is stored as an inbound of the sender's number (+ added), keywords such as STOP acted on; `context.message_uuid` links it to the outbound it replies to.",
        params: WebhookParams,
        body: VonageMessageInbound,
        response: { 200: InboundAccepted, ...errorResponses },
      },
    },
    async (request) => {
      const event = vonageSignedEvent(request);
      await receiveVonageWhatsappInbound(deps, request.params.channel, event, request.log, request.id);
      return { accepted: true };
    },
  );

  // Seed's inbound acts for any from_addr (a STOP or START for anybody's number): live keys only.
  app.post(
    "/api/v1/inbound/",
    {
      config: { liveKeysOnly: true },
      schema: {
        tags: ["inbound"],
        summary: "Store an inbound message: a Vumi message (transport_name names the channel, if it is one)",
        description:
          "Seed's inbound: a Vumi message as Vumi Go and Junebug's Vumi transports push it; the channel is `transport_name` when it names one, else the default. 201, or 200 with the stored one for a `message_id` seen before on that channel. Keywords (STOP...) and the sender's identity are resolved as for every inbound.",
        body: CreateInboundBody,
        response: { 201: Inbound, 200: Inbound, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { status, inbound } = await store(
        request,
        await fromVumi(request.body, null, channels, channelIds),
      );
      return reply.code(status).send(inbound);
    },
  );

  app.post(
    "/api/v1/inbound/:channel_id/",
    {
      config: { liveKeysOnly: true },
      schema: {
        tags: ["inbound"],
        summary:
          "Store an inbound message of a channel: a Vumi message, or a Junebug one (`from`, `to`, `reply_to`)",
        description:
          "Seed's inbound of a named channel (404 for no such channel): a Vumi message (with `from_addr`) or a Junebug one (with `from`), read as Seed read them. 201, or 200 for a `message_id` seen before.",
        params: InboundChannelParams,
        body: ChannelInboundBody,
        response: { 201: Inbound, 200: Inbound, ...errorResponses },
      },
    },
    async (request, reply) => {
      const channel = await inboundChannel(channels, channelIds, request.params.channel_id);
      const body = request.body;
      const message = isJunebug(body)
        ? fromJunebug(body, channel)
        : await fromVumi(body, channel, channels, channelIds);
      const { status, inbound } = await store(request, message);
      return reply.code(status).send(inbound);
    },
  );

  pageRoute(app, "/api/v1/inbound/", {
    tags: ["inbound"],
    summary: "List inbound messages, newest first (Seed's filters and ordering)",
    description:
      "Seed's filters `from_identity`, `from_addr` (repeatable), `to_addr`, `message_id`, `in_reply_to`, `content`, `transport_name`, `transport_type`, `created_at`/`updated_at` with `__gte`, `__gt`, `__lte`, `__lt`, `ordering`; also `channel` and `before`/`after`. `next` and `previous` carry a `cursor` (the row they continue from), so a page keeps its place while inbounds arrive.",
    query: InboundListQuery,
    item: Inbound,
    run: async (request, page) => {
      const visible = await visibleInbounds(db, viewerOf(request));
      const listed = await listInbounds(db, request.query, page, visible);
      return { ...listed, results: listed.results.map((inbound) => linked(request, INBOUNDS, inbound)) };
    },
  });

  app.get(
    "/api/v1/inbound/:id/",
    {
      schema: {
        tags: ["inbound"],
        summary: "Get one inbound message",
        description:
          "One inbound with its channel, addresses, sender identity, keyword and the outbound it replies to.",
        params: IdParams,
        response: { 200: Inbound, ...errorResponses },
      },
    },
    async (request) =>
      linked(
        request,
        INBOUNDS,
        await getInbound(db, request.params.id, await visibleInbounds(db, viewerOf(request))),
      ),
  );
}
