import Type, { type Static } from "typebox";
import { TwilioChannelConfig } from "../twilio/wire.ts";

// Twilio's WhatsApp sender: a Twilio channel whose `from` is the WhatsApp sender's number (E.164, sent as
// `whatsapp:+…`). Its status callbacks and inbound messages come to the Twilio webhooks (/api/v1/events/twilio/,
// /api/v1/inbound/twilio/), signed the same way.

const { messaging_service_sid: _service, ...twilioFields } = TwilioChannelConfig.properties;

/** Twilio WhatsApp: the Twilio fields (without a messaging service), `from` required. */
export const TwilioWhatsappChannelConfig = Type.Object(
  {
    ...twilioFields,
    /** The WhatsApp sender's number, E.164 (e.g. +27820000000); sent as `whatsapp:+27820000000`. */
    from: Type.String({ pattern: "^\\+[1-9]\\d{6,14}$" }),
  },
  { additionalProperties: false },
);
export type TwilioWhatsappChannelConfig = Static<typeof TwilioWhatsappChannelConfig>;
