import { registerHookRoutes } from "@tidings/hooks";
import type { Api, ServiceDeps } from "@tidings/service-kit";
import { ChannelCache } from "../channels/channel-cache.ts";
import type { MessageSenderConfig } from "../config.ts";
import type { Db } from "../db.ts";
import { parseKeywords } from "../inbound/keywords.ts";
import { defaultRedelivery } from "../outbound/redelivery.ts";
import { identityDirectory } from "../recipients/identity-directory.ts";
import { batchRoutes } from "./batch.routes.ts";
import { channelRoutes } from "./channels.routes.ts";
import { eventRoutes } from "./events.routes.ts";
import { failedTaskRoutes } from "./failed-tasks.routes.ts";
import { helpdeskRoutes } from "./helpdesk.routes.ts";
import { inboundRoutes } from "./inbound.routes.ts";
import { outboundRoutes } from "./outbounds.routes.ts";
import { reportRoutes } from "./reports.routes.ts";
import { resendRoutes } from "./resend.routes.ts";

/**
 * The message sender API's routes; only the API role imports this module (see `routes` in ../service.ts).
 * `channelIds`: the channels given in code, which sends may name besides those in the channel table.
 */
export function registerRoutes(
  app: Api,
  { db, config }: ServiceDeps<MessageSenderConfig, Db>,
  channelIds: string[],
): void {
  // The channel table, as sends and provider callbacks read it: cached like the worker's (same TTL).
  const channelCache = new ChannelCache(db, config.CHANNEL_CACHE_TTL_MS);
  const redelivery = defaultRedelivery(config);
  outboundRoutes(app, db, channelCache, channelIds);
  batchRoutes(app, db, channelCache, channelIds);
  helpdeskRoutes(app, { db });
  reportRoutes(app, db, config.ARCHIVE_DIR);
  channelRoutes(app, { db, channels: channelCache, redelivery });
  const webhooks = {
    db,
    channels: channelCache,
    vonageMaxSkewMs: config.VONAGE_SIGNATURE_MAX_SKEW_MS,
    keywords: parseKeywords(config.INBOUND_KEYWORDS),
    identities: identityDirectory(config),
    redelivery,
  };
  eventRoutes(app, webhooks);
  failedTaskRoutes(app, db);
  resendRoutes(app, db);
  inboundRoutes(app, webhooks, channelIds);
  registerHookRoutes(app, { db, service: "message-sender" });
}
