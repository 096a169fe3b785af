import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { EventAccepted, Twiml, WebhookParams } from "@tidings/contracts";
import { type Api, CALLBACK_BODY_LIMIT, errorResponses, type LinkRequest } from "@tidings/service-kit";
import Type, { type Static, type TSchema } from "typebox";
import { receiveTwilioStatus } from "../channels/twilio/webhooks.ts";
import { TwilioStatusCallback } from "../channels/twilio/wire.ts";
import {
  HANGUP_TWIML,
  receiveTwilioCallStatus,
  receiveTwilioPlayed,
} from "../channels/twilio-voice/webhooks.ts";
import { PlayedQuery, TwilioCallStatusCallback, TwilioPlayedRequest } from "../channels/twilio-voice/wire.ts";
import { receiveVonageReceipt } from "../channels/vonage/webhooks.ts";
import { VonageDeliveryReceipt } from "../channels/vonage/wire.ts";
import { receiveVonageCallEvent, receiveVonagePlayed } from "../channels/vonage-voice/webhooks.ts";
import { VonageCallEvent, VonagePlayedEvent } from "../channels/vonage-voice/wire.ts";
import { receiveVonageWhatsappStatus } from "../channels/vonage-whatsapp/webhooks.ts";
import { VonageMessageStatus } from "../channels/vonage-whatsapp/wire.ts";
import type { WebhookDeps, WebhookLog } from "../channels/webhooks.ts";
import { handleVumiEvent, VumiEvent } from "../delivery-reports/vumi-events.ts";
import { keepRawBody, twilioSignedRequest, vonageSignedEvent } from "./signed-request.ts";

const accepted = (outcome: string): EventAccepted => ({
  accepted: true,
  reason: outcome === "ignored" ? "Event ignored" : "Event processed",
});

/** What a callback's handler reads of its request. */
interface CallbackRequest<Body> extends LinkRequest {
  params: WebhookParams;
  body: Body;
  headers: IncomingHttpHeaders;
  raw: IncomingMessage;
  log: WebhookLog;
}

/** A provider's callback to a channel: what the docs say of it, its body, and what it does (its outcome). */
interface ProviderCallback<Body extends TSchema> {
  summary: string;
  description: string;
  body: Body;
  /** Keep the body as posted (`keepRawBody`), for a signature over its bytes (`vonageSignedEvent`). */
  rawBody?: boolean;
  /** What the provider is answered (and its schema), when not `{accepted, reason}`. */
  answer?: { schema: TSchema; body: unknown };
  run(request: CallbackRequest<Static<Body>>): Promise<string>;
}

/** Registers a public POST of a provider's callbacks to one channel (`:channel`), its body limited. */
function providerCallback<Body extends TSchema>(
  app: Api,
  path: string,
  { summary, description, body, rawBody, answer, run }: ProviderCallback<Body>,
): void {
  app.post(
    path,
    {
      config: { public: true },
      bodyLimit: CALLBACK_BODY_LIMIT,
      ...(rawBody ? { preParsing: keepRawBody } : {}),
      schema: {
        tags: ["events"],
        summary,
        description,
        params: WebhookParams,
        body,
        response: { 200: answer?.schema ?? EventAccepted, ...errorResponses },
      },
    },
    async (request) => {
      const outcome = await run(request as never);
      return answer ? answer.body : accepted(outcome);
    },
  );
}

/**
 * Provider callbacks: public (no token), each verified by the provider's signature before anything is read from
 * the database.
 */
export function eventRoutes(app: Api, webhooks: WebhookDeps): void {
  // Twilio posts form-encoded parameters; every one of them is part of the signature.
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string" },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );

  providerCallback(app, "/api/v1/events/twilio/:channel", {
    summary: "Twilio status callback (verified by X-Twilio-Signature)",
    description:
      "Public: Twilio posts its status callbacks here (form-encoded), verified by `X-Twilio-Signature` with the channel's auth token (403 MESSAGE_SENDER_INVALID_SIGNATURE when it does not verify). The outbound found by its provider id moves to delivered or failed and `outbound.delivery_report` is published. Also a twilio-whatsapp channel's callbacks: a refusal as undeliverable (63003, 63005, 63016, 63024) sends the outbound once by SMS through the channel's `fallback` instead; a receipt for an attempt that already fell back is kept in the history and changes nothing.",
    body: TwilioStatusCallback,
    run: (request) =>
      receiveTwilioStatus(webhooks, request.params.channel, twilioSignedRequest(request), request.log),
  });

  providerCallback(app, "/api/v1/events/twilio-voice/:channel", {
    summary: "Twilio call status callback (verified by X-Twilio-Signature)",
    description:
      "Public: Twilio posts a twilio-voice channel's call status callbacks here (form-encoded), verified by `X-Twilio-Signature` with the channel's auth token (403 MESSAGE_SENDER_INVALID_SIGNATURE when it does not verify). A call's end decides its outbound: `completed` delivered when the call's played marker came (before it, or within 3 s after; else failed `hung_up_early`, retried as an unanswered call; a vonage-voice channel without status_callback has no marker and delivers it); `no-answer`, `busy`, `failed`, `canceled` failed with that reason (retried by the channel's redelivery policy), and frees the call's concurrency slot; progress events (initiated, ringing, in-progress) are ignored.",
    body: TwilioCallStatusCallback,
    run: (request) =>
      receiveTwilioCallStatus(webhooks, request.params.channel, twilioSignedRequest(request), request.log),
  });

  app.post(
    "/api/v1/events/twilio-voice/:channel/played",
    {
      config: { public: true },
      bodyLimit: CALLBACK_BODY_LIMIT,
      schema: {
        tags: ["events"],
        summary:
          "A twilio-voice call's played marker (verified by X-Twilio-Signature); answers TwiML that hangs up",
        description:
          "Public: a twilio-voice call's TwiML `<Redirect>`s here (form-encoded, `?outbound=<id>`) once every `<Play>` finished, verified by `X-Twilio-Signature` as the status callbacks are (403 MESSAGE_SENDER_INVALID_SIGNATURE, nothing changes). Kept for the call's end: a call that ends `completed` is delivered only with it. A repeat changes nothing.",
        params: WebhookParams,
        querystring: PlayedQuery,
        body: TwilioPlayedRequest,
        response: { 200: Twiml, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { channel } = request.params;
      await receiveTwilioPlayed(
        webhooks,
        channel,
        request.query.outbound,
        twilioSignedRequest(request),
        request.log,
      );
      return reply.type("text/xml").send(HANGUP_TWIML);
    },
  );

  providerCallback(app, "/api/v1/events/vonage/:channel", {
    summary: "Vonage SMS delivery receipt (verified by its sig parameter)",
    description:
      "Public: Vonage's delivery receipts (form-encoded or JSON), verified by their `sig` parameter and signed `timestamp` with the channel's signature secret (403 when they do not verify or are stale); applied as a Twilio report is.",
    body: VonageDeliveryReceipt,
    run: (request) => receiveVonageReceipt(webhooks, request.params.channel, request.body, request.log),
  });

  providerCallback(app, "/api/v1/events/vonage-voice/:channel", {
    summary: "Vonage call event (verified by its signed JWT)",
    description:
      "Public: Vonage posts a vonage-voice channel's call events here (JSON), verified by the JWT in `Authorization: Bearer` (HS256 with the channel's signature secret, `payload_hash` the SHA-256 of the body, `iat` within VONAGE_SIGNATURE_MAX_SKEW_MS; else 403 MESSAGE_SENDER_INVALID_SIGNATURE). A call's end decides its outbound: `completed` delivered when the call's played marker came (before it, or within 3 s after; else failed `hung_up_early`, retried as an unanswered call; a vonage-voice channel without status_callback has no marker and delivers it); `timeout`, `unanswered`, `busy`, `failed`, `rejected`, `cancelled` failed with that reason (retried by the channel's redelivery policy), and frees the call's concurrency slot; progress events (started, ringing, answered) are ignored.",
    body: VonageCallEvent,
    rawBody: true,
    run: (request) =>
      receiveVonageCallEvent(webhooks, request.params.channel, vonageSignedEvent(request), request.log),
  });

  providerCallback(app, "/api/v1/events/vonage-voice/:channel/played", {
    summary: "A vonage-voice call's played marker (verified by its signed JWT)",
    description:
      "Public: a vonage-voice call's NCCO `notify` posts here (JSON: its payload `outbound`, and the call's `uuid` when Vonage adds it) once every `stream` finished, verified by its signed JWT as the call events are (403 MESSAGE_SENDER_INVALID_SIGNATURE, nothing changes). Kept for the call's end: a call that ends `completed` is delivered only with it. A repeat changes nothing. Answered with an empty NCCO (`[]`), which ends the call.",
    body: VonagePlayedEvent,
    rawBody: true,
    // Vonage reads a notify's answer as the NCCO to go on with: an empty one ends the call.
    answer: { schema: Type.Array(Type.Unknown(), { maxItems: 0 }), body: [] },
    run: (request) =>
      receiveVonagePlayed(webhooks, request.params.channel, vonageSignedEvent(request), request.log),
  });

  providerCallback(app, "/api/v1/events/vonage-whatsapp/:channel", {
    summary: "Vonage Messages API status webhook of a WhatsApp message (verified by its signed JWT)",
    description:
      "Public: the Messages API posts a vonage-whatsapp channel's message statuses here (JSON), verified by the JWT in `Authorization: Bearer` as call events are (else 403 MESSAGE_SENDER_INVALID_SIGNATURE, nothing changes). `delivered` and `read` deliver the outbound; `rejected` with error 1022 (template), 1300 (not on WhatsApp) or 1340 (outside the 24-hour window), and `undeliverable`, send it once by SMS through the channel's `fallback` instead (else it fails); other rejections fail it (retried by the channel's redelivery policy); `submitted` is ignored. A status for an attempt that already fell back is kept in the history and changes nothing.",
    body: VonageMessageStatus,
    rawBody: true,
    run: (request) =>
      receiveVonageWhatsappStatus(webhooks, request.params.channel, vonageSignedEvent(request), request.log),
  });

  // Seed's generic event endpoint. Unlike Seed (AllowAny) it needs a token: an unauthenticated status change
  // is exactly what the signed provider routes above avoid.
  app.post(
    "/api/v1/events",
    {
      // Any outbound's status (and its person's failure count): live keys only.
      config: { liveKeysOnly: true },
      schema: {
        tags: ["events"],
        summary: "A Vumi event (ack, nack, delivery_report) about an outbound, by its provider id (token)",
        description:
          "Seed's generic event `{message_type: event, event_type: ack|nack|delivery_report, user_message_id, nack_reason?, delivery_status?}`, matched by provider id: delivery_report marks the outbound delivered (failed when `delivery_status` is failed), nack failed, ack changes nothing. An unknown id is a 400.",
        body: VumiEvent,
        response: { 200: EventAccepted, ...errorResponses },
      },
    },
    async (request) => accepted(await handleVumiEvent(webhooks, request.body, request.log)),
  );
}
