// Local servers that speak the Twilio and Vonage REST wire formats (and SMTP), for tests and demos.
export * from "./smtp.ts";
export * from "./twilio.ts";
export {
  postSigned,
  type SimulatedTwilioMessage,
  TWILIO_ERRORS,
  type TwilioFailure,
  type TwilioFinalStatus,
  type TwilioOutcome,
} from "./twilio-rest.ts";
export * from "./twilio-voice.ts";
export * from "./twilio-whatsapp.ts";
export * from "./voice.ts";
export * from "./vonage.ts";
export * from "./vonage-messages.ts";
export * from "./vonage-voice.ts";
