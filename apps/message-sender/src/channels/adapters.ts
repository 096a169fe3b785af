import { type MessageSenderConfig, twilioTransport } from "../config.ts";
import type { Db } from "../db.ts";
import type { Channel as ChannelRow } from "../generated/prisma/client.ts";
import { type Channel, type Logger, PermanentSendError } from "../outbound/channel.ts";
import { LogChannel } from "./log/adapter.ts";
import type { SmtpChannelConfig } from "./smtp/wire.ts";
import type { TwilioChannelConfig } from "./twilio/wire.ts";
import type { TwilioVoiceChannelConfig } from "./twilio-voice/wire.ts";
import type { TwilioWhatsappChannelConfig } from "./twilio-whatsapp/wire.ts";
import type { VonageChannelConfig } from "./vonage/wire.ts";
import type { VonageVoiceChannelConfig } from "./vonage-voice/wire.ts";
import type { VonageWhatsappChannelConfig } from "./vonage-whatsapp/wire.ts";

/** Sending through a channel type with no adapter yet: a definite failure, not a retry loop. */
const unsupported = (type: string): Channel => ({
  send: async () => {
    throw new PermanentSendError(`channel type ${type} cannot send yet`);
  },
});

/** A channel's adapter; a provider's module (and its SDK, tens of MB) is loaded only once a channel uses it. */
export async function buildAdapter(
  row: ChannelRow,
  logger: Logger,
  config: MessageSenderConfig,
  db: Db,
): Promise<Channel> {
  switch (row.type) {
    case "log":
      return new LogChannel(logger, config.LOG_CHANNEL_FILE);
    case "twilio": {
      const { TwilioChannel } = await import("./twilio/adapter.ts");
      return new TwilioChannel(
        row.id,
        row.configuration as unknown as TwilioChannelConfig,
        twilioTransport(config),
      );
    }
    case "vonage": {
      const { VonageChannel } = await import("./vonage/adapter.ts");
      const vonage = row.configuration as unknown as VonageChannelConfig;
      return new VonageChannel(row.id, vonage, vonage.status_callback);
    }
    case "smtp": {
      const { SmtpChannel } = await import("./smtp/adapter.ts");
      return new SmtpChannel(row.configuration as unknown as SmtpChannelConfig);
    }
    case "twilio-voice": {
      const { TwilioVoiceChannel } = await import("./twilio-voice/adapter.ts");
      return new TwilioVoiceChannel(
        row.id,
        row.configuration as unknown as TwilioVoiceChannelConfig,
        twilioTransport(config),
      );
    }
    case "vonage-voice": {
      const { VonageVoiceChannel } = await import("./vonage-voice/adapter.ts");
      return new VonageVoiceChannel(row.id, row.configuration as unknown as VonageVoiceChannelConfig);
    }
    case "twilio-whatsapp": {
      const { TwilioWhatsappChannel } = await import("./twilio-whatsapp/adapter.ts");
      const whatsapp = row.configuration as unknown as TwilioWhatsappChannelConfig;
      return new TwilioWhatsappChannel(row.id, whatsapp, db, twilioTransport(config));
    }
    case "vonage-whatsapp": {
      const { VonageWhatsappChannel } = await import("./vonage-whatsapp/adapter.ts");
      const whatsapp = row.configuration as unknown as VonageWhatsappChannelConfig;
      return new VonageWhatsappChannel(row.id, whatsapp, db);
    }
    default:
      return unsupported(row.type);
  }
}
