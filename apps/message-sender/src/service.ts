import { type Clock, defineService, type ServiceDefinition, systemClock } from "@tidings/service-kit";
import { loadMessageSenderConfig, type MessageSenderConfig } from "./config.ts";
import { startConsumers } from "./consumers/index.ts";
import { createDb, type Db } from "./db.ts";
import type { Channels, Logger } from "./outbound/channel.ts";
import { countPublished } from "./outbound/metrics.ts";
import { registerArchivePurgeGauge } from "./reports/archive-purge.ts";

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
  return defineService("message-sender", {
    loadConfig: loadMessageSenderConfig,
    createDb,
    // Test keys send to the log channel, team keys to their allow-list (src/api-keys/); routes that cannot keep
    // either are `liveKeysOnly`.
    keyKinds: "enforced",
    routes: async () => {
      const { registerRoutes } = await import("./routes/index.ts");
      return (app, deps) => registerRoutes(app, deps, Object.keys(channels(deps.logger, deps.config)));
    },
    onPublished: (_deps, messages) => countPublished(messages),
    workerMetrics: (deps, registry) => registerArchivePurgeGauge(registry, deps.db),
    startConsumers: (deps) =>
      startConsumers(
        deps,
        channels(deps.logger.child({ component: "channel" }), deps.config),
        options.clock ?? systemClock,
      ),
  });
}

export const messageSenderService = createMessageSenderService();
