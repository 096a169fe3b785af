import Type, { type Static } from "typebox";
import { TwilioVoiceChannelConfig } from "../twilio-voice/wire.ts";
import { VonageChannelConfig } from "../vonage/wire.ts";
import { optionalOrigin } from "../wire-parts.ts";

// Vonage Voice's wire formats: a channel's configuration, and the call events Vonage posts.

const { status_callback, timeout_ms } = VonageChannelConfig.properties;
const { ring_seconds, message_timeout } = TwilioVoiceChannelConfig.properties;

/** Vonage Voice API: outbound calls whose NCCO streams an outbound's `voice_speech_url`. */
export const VonageVoiceChannelConfig = Type.Object(
  {
    /** The Vonage application that places the calls (its voice capability). */
    application_id: Type.String({ minLength: 1, maxLength: 100 }),
    /** Secret: the application's private key (PEM); the SDK signs each request's JWT with it. */
    private_key: Type.String({ minLength: 1, maxLength: 10_000 }),
    /** The calling number (a Vonage number linked to the application), without the +. */
    from: Type.String({ minLength: 1, maxLength: 50 }),
    /** Secret: the account's signature secret, that verifies the signed JWT of every call event. */
    signature_secret: Type.String({ minLength: 1, maxLength: 200 }),
    /**
     * The externally visible base URL of this service; call events go to
     * `<status_callback>/api/v1/events/vonage-voice/<channel_id>`. Unset: the application's event URL.
     */
    status_callback,
    /** Another origin for the Voice API (a simulator). Default https://api.nexmo.com. */
    api_url: optionalOrigin,
    timeout_ms,
    /** How long a call rings before it is not answered (Vonage's `ringing_timer`, seconds). Default 60. */
    ring_seconds,
    message_timeout,
  },
  { additionalProperties: false },
);
export type VonageVoiceChannelConfig = Static<typeof VonageVoiceChannelConfig>;

/** A Vonage call event (JSON); Vonage sends more fields, all covered by the signed payload hash. */
export const VonageCallEvent = Type.Object({
  uuid: Type.String({ minLength: 1 }),
  status: Type.String({ minLength: 1 }),
});
export type VonageCallEvent = Static<typeof VonageCallEvent>;

/**
 * The event of a call's played marker (its NCCO's `notify`): the payload the NCCO gave (`outbound`) and, when
 * Vonage adds it, the call's uuid (without it, the outbound's current call is the one).
 */
export const VonagePlayedEvent = Type.Object({
  uuid: Type.Optional(Type.String({ minLength: 1 })),
  outbound: Type.String({ minLength: 1, maxLength: 64 }),
});
export type VonagePlayedEvent = Static<typeof VonagePlayedEvent>;
