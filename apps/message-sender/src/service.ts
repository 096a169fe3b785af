import type { ServiceDefinition } from "@tidings/service-kit";
import type { Channels, Logger } from "./channels/channel.ts";
import { loadMessageSenderConfig, type MessageSenderConfig } from "./config.ts";
import { startConsumers } from "./consumers/index.ts";
import { createDb, type Db } from "./db.ts";
import { channelRoutes } from "./routes/channels.routes.ts";
import { eventRoutes } from "./routes/events.routes.ts";
import { failedTaskRoutes } from "./routes/failed-tasks.routes.ts";
import { inboundRoutes } from "./routes/inbound.routes.ts";
import { outboundRoutes } from "./routes/outbounds.routes.ts";
import { parseKeywords } from "./services/inbound.ts";

export interface MessageSenderOptions {
  /**
   * Channels given in code, by channel id, besides (and before) those in the channel table. Default: none;
   * the table holds the built-in LOG channel.
   */
  channels?: (logger: Logger, config: MessageSenderConfig) => Channels;
}

const noChannels = (): Channels => ({});

export function createMessageSenderService(
  options: MessageSenderOptions = {},
): ServiceDefinition<MessageSenderConfig, Db> {
  const channels = options.channels ?? noChannels;
  return {
    name: "message-sender",
    version: "0.1.0",
    loadConfig: loadMessageSenderConfig,
    createDb,
    routes: (app, { db, config, logger }) => {
      outboundRoutes(app, db, Object.keys(channels(logger, config)), config.PUBLIC_URL);
      channelRoutes(app, db, config.PUBLIC_URL);
      eventRoutes(app, db, config.PUBLIC_URL);
      failedTaskRoutes(app, db, config.PUBLIC_URL);
      inboundRoutes(app, db, parseKeywords(config.INBOUND_KEYWORDS), config.PUBLIC_URL);
    },
    startConsumers: (deps) =>
      startConsumers(deps, channels(deps.logger.child({ component: "channel" }), deps.config)),
  };
}

export const messageSenderService = createMessageSenderService();
