import type { ServiceDefinition } from "@tidings/service-kit";
import { type Channels, DEFAULT_CHANNEL, type Logger } from "./channels/channel.ts";
import { LogChannel } from "./channels/log.ts";
import { loadMessageSenderConfig, type MessageSenderConfig } from "./config.ts";
import { startConsumers } from "./consumers/index.ts";
import { createDb, type Db } from "./db.ts";
import { outboundRoutes } from "./routes/outbounds.routes.ts";

export interface MessageSenderOptions {
  /** The channels by channel id. Default: the log channel only, as LOG. */
  channels?: (logger: Logger, config: MessageSenderConfig) => Channels;
}

const defaultChannels = (logger: Logger, config: MessageSenderConfig): Channels => ({
  [DEFAULT_CHANNEL]: new LogChannel(logger, config.LOG_CHANNEL_FILE),
});

export function createMessageSenderService(
  options: MessageSenderOptions = {},
): ServiceDefinition<MessageSenderConfig, Db> {
  const channels = options.channels ?? defaultChannels;
  return {
    name: "message-sender",
    version: "0.1.0",
    loadConfig: loadMessageSenderConfig,
    createDb,
    routes: (app, { db, config, logger }) =>
      outboundRoutes(app, db, Object.keys(channels(logger, config)), config.PUBLIC_URL),
    startConsumers: (deps) =>
      startConsumers(deps, channels(deps.logger.child({ component: "channel" }), deps.config)),
  };
}

export const messageSenderService = createMessageSenderService();
