import Type, { type Static } from "typebox";
import { TwilioWhatsappChannelConfig } from "../twilio-whatsapp/wire.ts";
import { VonageVoiceChannelConfig } from "../vonage-voice/wire.ts";

// WhatsApp through Vonage's Messages API: a channel's configuration (a Vonage application, as vonage-voice's, and the
// WhatsApp number), and the webhooks the Messages API posts (JSON, each signed by a JWT as call events are).

const { application_id, private_key, signature_secret, status_callback, api_url, timeout_ms } =
  VonageVoiceChannelConfig.properties;
const { from } = TwilioWhatsappChannelConfig.properties;

/** Vonage Messages API, WhatsApp: the application that sends, its WhatsApp number, its webhooks' secret. */
export const VonageWhatsappChannelConfig = Type.Object(
  {
    application_id,
    /** Secret: the application's private key (PEM); the SDK signs each request's JWT with it. */
    private_key,
    /** The WhatsApp sender's number, E.164 (e.g. +27820000000); sent without the +. */
    from,
    /** Secret: the account's signature secret, that verifies the signed JWT of every status and inbound webhook. */
    signature_secret,
    /**
     * The externally visible base URL of this service; each message's status webhooks go to
     * `<status_callback>/api/v1/events/vonage-whatsapp/<channel_id>`. Unset: the application's status URL.
     */
    status_callback,
    /** Another origin for the Messages API (a simulator). Default https://api.nexmo.com. */
    api_url,
    timeout_ms,
    /** The language of the WhatsApp templates sent (WhatsApp's locale code). Default `en`. */
    template_locale: Type.Optional(Type.String({ pattern: "^[a-z]{2,3}(_[A-Z]{2})?$" })),
  },
  { additionalProperties: false },
);
export type VonageWhatsappChannelConfig = Static<typeof VonageWhatsappChannelConfig>;

/** The error of a rejected or undeliverable message: `title` its code (a number, or its text), `type` a URL ending `#<code>`. */
const MessageError = Type.Object({
  type: Type.Optional(Type.String()),
  title: Type.Optional(Type.Union([Type.String(), Type.Number()])),
  detail: Type.Optional(Type.String()),
});

/** A Messages API status webhook (JSON); Vonage sends more fields, all covered by the signed payload hash. */
export const VonageMessageStatus = Type.Object({
  message_uuid: Type.String({ minLength: 1 }),
  status: Type.String({ minLength: 1 }),
  error: Type.Optional(MessageError),
});
export type VonageMessageStatus = Static<typeof VonageMessageStatus>;

/** A Messages API inbound message (JSON): numbers without the +; `context` names the message it replies to. */
export const VonageMessageInbound = Type.Object({
  message_uuid: Type.String({ minLength: 1 }),
  from: Type.String({ minLength: 1, maxLength: 50 }),
  to: Type.String({ minLength: 1, maxLength: 50 }),
  message_type: Type.Optional(Type.String()),
  text: Type.Optional(Type.String()),
  context: Type.Optional(Type.Object({ message_uuid: Type.Optional(Type.String()) })),
});
export type VonageMessageInbound = Static<typeof VonageMessageInbound>;
