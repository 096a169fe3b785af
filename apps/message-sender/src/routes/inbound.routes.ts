import {
  CreateInboundBody,
  IdParams,
  Inbound,
  InboundListQuery,
  Paginated,
  TwilioInboundWebhook,
  VonageInboundWebhook,
} from "@tidings/contracts";
import { type Api, CALLBACK_BODY_LIMIT, errorResponses, pageParams, toPage } from "@tidings/service-kit";
import Type from "typebox";
import { viewerOf, visibleInbounds } from "../api-keys/visibility.ts";
import type { ChannelCache } from "../channels/channel-cache.ts";
import type { Db } from "../db.ts";
import { verifyTwilio, verifyVonage } from "../delivery-reports/provider-reports.ts";
import { getInbound, type Keywords, listInbounds, receiveInbound } from "../inbound/inbound.ts";
import type { IdentityDirectory } from "../recipients/identity-directory.ts";
import { externalUrl } from "./events.routes.ts";

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

/**
 * Inbound messages: Twilio's and Vonage's webhooks (signed, public; verified before anything is read from the
 * database) and Seed's `/api/v1/inbound/` (token). `vonageMaxSkewMs`: VONAGE_SIGNATURE_MAX_SKEW_MS.
 */
export function inboundRoutes(
  app: Api,
  db: Db,
  channels: ChannelCache,
  vonageMaxSkewMs: number,
  keywords: Keywords,
  publicUrl?: string,
  identities?: IdentityDirectory,
): void {
  app.post(
    "/api/v1/inbound/twilio/:channel",
    {
      config: { public: true },
      bodyLimit: CALLBACK_BODY_LIMIT,
      schema: {
        tags: ["inbound"],
        summary: "Twilio incoming-message webhook (verified by X-Twilio-Signature); answers empty TwiML",
        params: Type.Object({ channel: Type.String({ minLength: 1, maxLength: 64 }) }),
        body: TwilioInboundWebhook,
        response: { 200: Type.String(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const params = request.body as Record<string, string>;
      const signature = request.headers["x-twilio-signature"];
      await verifyTwilio(
        channels,
        request.params.channel,
        {
          url: externalUrl(request, publicUrl),
          signature: typeof signature === "string" ? signature : undefined,
          params,
        },
        request.log,
      );
      const { created } = await receiveInbound(
        db,
        {
          channel: request.params.channel,
          messageId: request.body.MessageSid,
          // Twilio says which message a (WhatsApp) reply answers; SMS replies carry no reference.
          inReplyTo: params.OriginalRepliedMessageSid ?? null,
          fromAddr: request.body.From,
          toAddr: request.body.To,
          content: request.body.Body ?? null,
        },
        keywords,
        { identities, log: request.log },
        { userId: null, correlationId: request.id },
      );
      request.log.info({ channel: request.params.channel, created }, "twilio inbound message");
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
        params: Type.Object({ channel: Type.String({ minLength: 1, maxLength: 64 }) }),
        body: VonageInboundWebhook,
        response: { 200: Type.Object({ accepted: Type.Boolean() }), ...errorResponses },
      },
    },
    async (request) => {
      const params = Object.fromEntries(
        Object.entries(request.body as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
      );
      await verifyVonage(channels, request.params.channel, params, request.log, vonageMaxSkewMs);
      const { created } = await receiveInbound(
        db,
        {
          channel: request.params.channel,
          messageId: request.body.messageId,
          // Vonage gives numbers without the leading +.
          fromAddr: `+${request.body.msisdn.replace(/^\+/, "")}`,
          toAddr: request.body.to,
          content: request.body.text ?? null,
        },
        keywords,
        { identities, log: request.log },
        { userId: null, correlationId: request.id },
      );
      request.log.info({ channel: request.params.channel, created }, "vonage inbound message");
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
        db,
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
        keywords,
        { identities, log: request.log },
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
      return toPage(request, page, count, results, publicUrl);
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
