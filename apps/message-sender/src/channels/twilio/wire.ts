import Type, { type Static } from "typebox";
import { optionalOrigin, requestTimeoutMs } from "../wire-parts.ts";

// Twilio's wire formats: a channel's configuration, and the webhooks Twilio posts.

/** Twilio Programmable Messaging. One of `from` and `messaging_service_sid`. */
export const TwilioChannelConfig = Type.Object(
  {
    account_sid: Type.String({ pattern: "^AC[0-9a-fA-F]{32}$" }),
    /** Secret. */
    auth_token: Type.String({ minLength: 1, maxLength: 200 }),
    from: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
    messaging_service_sid: Type.Optional(Type.String({ pattern: "^MG[0-9a-fA-F]{32}$" })),
    /**
     * The externally visible base URL of this service (e.g. https://tidings.example.org); status callbacks go
     * to `<status_callback>/api/v1/events/twilio/<channel_id>`. Unset: no status callbacks.
     */
    status_callback: optionalOrigin,
    /** Another origin for Twilio's REST API (a simulator or a proxy). Default https://api.twilio.com. */
    api_url: optionalOrigin,
    timeout_ms: requestTimeoutMs,
  },
  { additionalProperties: false },
);
export type TwilioChannelConfig = Static<typeof TwilioChannelConfig>;

/** Twilio's status callback (form-encoded); Twilio sends more fields, all kept for the signature. */
export const TwilioStatusCallback = Type.Object({
  MessageSid: Type.String({ minLength: 1 }),
  MessageStatus: Type.String({ minLength: 1 }),
  ErrorCode: Type.Optional(Type.String()),
});
export type TwilioStatusCallback = Static<typeof TwilioStatusCallback>;

/** Twilio's incoming-message webhook (form-encoded); all fields are kept for the signature. */
export const TwilioInboundWebhook = Type.Object({
  MessageSid: Type.String({ minLength: 1 }),
  From: Type.String({ minLength: 1 }),
  To: Type.String(),
  Body: Type.Optional(Type.String()),
});
export type TwilioInboundWebhook = Static<typeof TwilioInboundWebhook>;
