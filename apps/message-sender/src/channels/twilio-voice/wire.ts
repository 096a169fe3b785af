import Type, { type Static } from "typebox";
import { TwilioChannelConfig } from "../twilio/wire.ts";

// Twilio Voice's wire formats: a channel's configuration, and the call status callbacks Twilio posts.

const { account_sid, auth_token, status_callback, api_url, timeout_ms } = TwilioChannelConfig.properties;

/** Twilio Programmable Voice: outbound calls that play an outbound's `voice_speech_url`. */
export const TwilioVoiceChannelConfig = Type.Object(
  {
    account_sid,
    /** Secret. */
    auth_token,
    /** The calling number (a Twilio number or verified caller id). */
    from: Type.String({ minLength: 1, maxLength: 50 }),
    /**
     * The externally visible base URL of this service; call status callbacks go to
     * `<status_callback>/api/v1/events/twilio-voice/<channel_id>`. Unset: no callbacks (calls end by no_report).
     */
    status_callback,
    api_url,
    timeout_ms,
    /** How long a call rings before it is not answered (Twilio's `Timeout`, seconds). Default 60. */
    ring_seconds: Type.Optional(Type.Integer({ minimum: 5, maximum: 600 })),
    /**
     * How long a call holds a slot of the channel's concurrency_limit when its end is never reported (Seed's
     * `message_timeout`, seconds). Default 600.
     */
    message_timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
  },
  { additionalProperties: false },
);
export type TwilioVoiceChannelConfig = Static<typeof TwilioVoiceChannelConfig>;

/** Twilio's call status callback (form-encoded); Twilio sends more fields, all kept for the signature. */
export const TwilioCallStatusCallback = Type.Object({
  CallSid: Type.String({ minLength: 1 }),
  CallStatus: Type.String({ minLength: 1 }),
});
export type TwilioCallStatusCallback = Static<typeof TwilioCallStatusCallback>;

/** The request of a call's played marker (its TwiML's `<Redirect>`, form-encoded, as Twilio requests TwiML). */
export const TwilioPlayedRequest = Type.Object({ CallSid: Type.String({ minLength: 1 }) });
export type TwilioPlayedRequest = Static<typeof TwilioPlayedRequest>;

/** The played marker's query: the outbound the call plays. */
export const PlayedQuery = Type.Object({ outbound: Type.String({ minLength: 1, maxLength: 64 }) });
export type PlayedQuery = Static<typeof PlayedQuery>;
