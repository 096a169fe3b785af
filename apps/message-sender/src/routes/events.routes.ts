import { EventAccepted, TwilioStatusCallback, VonageDeliveryReceipt, VumiEvent } from "@tidings/contracts";
import { type Api, CALLBACK_BODY_LIMIT, errorResponses } from "@tidings/service-kit";
import Type from "typebox";
import type { ChannelCache } from "../channels/channel-cache.ts";
import type { Db } from "../db.ts";
import {
  handleTwilioStatus,
  handleVonageReceipt,
  handleVumiEvent,
} from "../delivery-reports/provider-reports.ts";

/**
 * The URL the provider posted to, as it saw it: PUBLIC_URL + the path when set, else the request's scheme and
 * host as the proxy forwarded them (X-Forwarded-Proto / X-Forwarded-Host; the app trusts its proxy).
 */
export function externalUrl(
  request: { protocol: string; host: string; url: string },
  publicUrl?: string,
): string {
  const base = publicUrl ?? `${request.protocol}://${request.host}`;
  return `${base.replace(/\/+$/, "")}${request.url}`;
}

/**
 * Provider callbacks: public (no token), each verified by the provider's signature before anything is read from
 * the database. `vonageMaxSkewMs`: VONAGE_SIGNATURE_MAX_SKEW_MS.
 */
export function eventRoutes(
  app: Api,
  db: Db,
  channels: ChannelCache,
  vonageMaxSkewMs: number,
  publicUrl?: string,
): void {
  // Twilio posts form-encoded parameters; every one of them is part of the signature.
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string" },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );

  app.post(
    "/api/v1/events/twilio/:channel",
    {
      config: { public: true },
      bodyLimit: CALLBACK_BODY_LIMIT,
      schema: {
        tags: ["events"],
        summary: "Twilio status callback (verified by X-Twilio-Signature)",
        params: Type.Object({ channel: Type.String({ minLength: 1, maxLength: 64 }) }),
        body: TwilioStatusCallback,
        response: { 200: EventAccepted, ...errorResponses },
      },
    },
    async (request) => {
      const signature = request.headers["x-twilio-signature"];
      const outcome = await handleTwilioStatus(
        db,
        channels,
        request.params.channel,
        {
          url: externalUrl(request, publicUrl),
          signature: typeof signature === "string" ? signature : undefined,
          params: request.body as TwilioStatusCallback & Record<string, string>,
        },
        request.log,
      );
      return { accepted: true, reason: outcome === "ignored" ? "Event ignored" : "Event processed" };
    },
  );

  app.post(
    "/api/v1/events/vonage/:channel",
    {
      config: { public: true },
      bodyLimit: CALLBACK_BODY_LIMIT,
      schema: {
        tags: ["events"],
        summary: "Vonage SMS delivery receipt (verified by its sig parameter)",
        params: Type.Object({ channel: Type.String({ minLength: 1, maxLength: 64 }) }),
        body: VonageDeliveryReceipt,
        response: { 200: EventAccepted, ...errorResponses },
      },
    },
    async (request) => {
      const params = Object.fromEntries(
        Object.entries(request.body as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
      );
      const outcome = await handleVonageReceipt(
        db,
        channels,
        request.params.channel,
        params,
        request.log,
        vonageMaxSkewMs,
      );
      return { accepted: true, reason: outcome === "ignored" ? "Event ignored" : "Event processed" };
    },
  );

  // Seed's generic event endpoint. Unlike Seed (AllowAny) it needs a token: an unauthenticated status change
  // is exactly what the signed provider routes above avoid.
  app.post(
    "/api/v1/events",
    {
      schema: {
        tags: ["events"],
        summary: "A Vumi event (ack, nack, delivery_report) about an outbound, by its provider id (token)",
        body: VumiEvent,
        response: { 200: EventAccepted, ...errorResponses },
      },
    },
    async (request) => {
      const outcome = await handleVumiEvent(db, request.body, request.log);
      return { accepted: true, reason: outcome === "ignored" ? "Event ignored" : "Event processed" };
    },
  );
}
