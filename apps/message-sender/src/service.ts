import { type Clock, type ServiceDefinition, systemClock } from "@tidings/service-kit";
import type { Channels, Logger } from "./channels/channel.ts";
import { loadMessageSenderConfig, type MessageSenderConfig } from "./config.ts";
import { startConsumers } from "./consumers/index.ts";
import { createDb, type Db } from "./db.ts";
import { batchRoutes } from "./routes/batch.routes.ts";
import { channelRoutes } from "./routes/channels.routes.ts";
import { eventRoutes } from "./routes/events.routes.ts";
import { failedTaskRoutes } from "./routes/failed-tasks.routes.ts";
import { inboundRoutes } from "./routes/inbound.routes.ts";
import { outboundRoutes } from "./routes/outbounds.routes.ts";
import { reportRoutes } from "./routes/reports.routes.ts";
import { ChannelCache } from "./services/channels.ts";
import { identityDirectory } from "./services/identity-client.ts";
import { parseKeywords } from "./services/inbound.ts";

export interface MessageSenderOptions {
  /**
   * Channels given in code, by channel id, besides (and before) those in the channel table. Default: none;
   * the table holds the built-in LOG channel.
   */
  channels?: (logger: Logger, config: MessageSenderConfig) => Channels;
  /** The worker's time for sending windows and expiry. Default: the system clock; tests control it. */
  clock?: Clock;
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
      const channelIds = Object.keys(channels(logger, config));
      // The channel table, as sends and provider callbacks read it: cached like the worker's (same TTL).
      const channelCache = new ChannelCache(db, config.CHANNEL_CACHE_TTL_MS);
      outboundRoutes(app, db, channelCache, channelIds, config.PUBLIC_URL);
      batchRoutes(app, db, channelCache, channelIds);
      reportRoutes(app, db, config.ARCHIVE_DIR);
      channelRoutes(app, db, channelCache, config.PUBLIC_URL);
      eventRoutes(app, db, channelCache, config.PUBLIC_URL);
      failedTaskRoutes(app, db, config.PUBLIC_URL);
      inboundRoutes(
        app,
        db,
        channelCache,
        parseKeywords(config.INBOUND_KEYWORDS),
        config.PUBLIC_URL,
        identityDirectory(config),
      );
    },
    startConsumers: (deps) =>
      startConsumers(
        deps,
        channels(deps.logger.child({ component: "channel" }), deps.config),
        options.clock ?? systemClock,
      ),
  };
}

export const messageSenderService = createMessageSenderService();
