import { Body, ChannelFields } from "@tidings/contracts";
import Type, { type Static } from "typebox";
import { LogChannelConfig } from "./log/wire.ts";
import { SmtpChannelConfig } from "./smtp/wire.ts";
import { TwilioChannelConfig } from "./twilio/wire.ts";
import { TwilioVoiceChannelConfig } from "./twilio-voice/wire.ts";
import { TwilioWhatsappChannelConfig } from "./twilio-whatsapp/wire.ts";
import { VonageChannelConfig } from "./vonage/wire.ts";
import { VonageVoiceChannelConfig } from "./vonage-voice/wire.ts";
import { VonageWhatsappChannelConfig } from "./vonage-whatsapp/wire.ts";

// The channel types: each one's configuration (its provider's wire format), its secrets and its endpoints.

export const CHANNEL_CONFIGS = {
  log: LogChannelConfig,
  twilio: TwilioChannelConfig,
  vonage: VonageChannelConfig,
  smtp: SmtpChannelConfig,
  "twilio-voice": TwilioVoiceChannelConfig,
  "vonage-voice": VonageVoiceChannelConfig,
  "twilio-whatsapp": TwilioWhatsappChannelConfig,
  "vonage-whatsapp": VonageWhatsappChannelConfig,
} as const;
export type ChannelType = keyof typeof CHANNEL_CONFIGS;

/** The write-only configuration fields per channel type. */
export const CHANNEL_SECRETS: Readonly<Record<ChannelType, readonly string[]>> = {
  log: [],
  twilio: ["auth_token"],
  vonage: ["api_secret", "signature_secret"],
  smtp: ["password"],
  "twilio-voice": ["auth_token"],
  "vonage-voice": ["private_key", "signature_secret"],
  "twilio-whatsapp": ["auth_token"],
  "vonage-whatsapp": ["private_key", "signature_secret"],
};

/**
 * The configuration fields per channel type that decide where the channel's requests (and the provider's
 * callbacks) go, or how they are protected: changing one of them needs the channel's secrets given again in the
 * same request, so stored secrets can never be redirected to another listener.
 */
export const CHANNEL_ENDPOINTS: Readonly<Record<ChannelType, readonly string[]>> = {
  log: [],
  twilio: ["api_url", "status_callback"],
  vonage: ["rest_url", "status_callback"],
  smtp: ["host", "port", "secure"],
  "twilio-voice": ["api_url", "status_callback"],
  "vonage-voice": ["api_url", "status_callback"],
  "twilio-whatsapp": ["api_url", "status_callback"],
  "vonage-whatsapp": ["api_url", "status_callback"],
};

/** `POST /api/v1/channel/`: the configuration is validated by type. */
export const CreateChannelBody = Type.Union([
  Body({
    ...ChannelFields,
    channel_type: Type.Literal("log"),
    configuration: Type.Optional(LogChannelConfig),
  }),
  Body({ ...ChannelFields, channel_type: Type.Literal("twilio"), configuration: TwilioChannelConfig }),
  Body({ ...ChannelFields, channel_type: Type.Literal("vonage"), configuration: VonageChannelConfig }),
  Body({ ...ChannelFields, channel_type: Type.Literal("smtp"), configuration: SmtpChannelConfig }),
  Body({
    ...ChannelFields,
    channel_type: Type.Literal("twilio-voice"),
    configuration: TwilioVoiceChannelConfig,
  }),
  Body({
    ...ChannelFields,
    channel_type: Type.Literal("vonage-voice"),
    configuration: VonageVoiceChannelConfig,
  }),
  Body({
    ...ChannelFields,
    channel_type: Type.Literal("twilio-whatsapp"),
    configuration: TwilioWhatsappChannelConfig,
  }),
  Body({
    ...ChannelFields,
    channel_type: Type.Literal("vonage-whatsapp"),
    configuration: VonageWhatsappChannelConfig,
  }),
]);
export type CreateChannelBody = Static<typeof CreateChannelBody>;
