import type { Broker, MessageContext } from "@tidings/amqp";
import { type IdentityChanged, queues } from "@tidings/contracts";
import type { Stop } from "@tidings/service-kit";
import type { Channels, Logger } from "../channels/channel.ts";
import { ChannelRegistry } from "../channels/registry.ts";
import { type MessageSenderConfig, retryDelays } from "../config.ts";
import type { Db } from "../db.ts";
import { forgetIdentity, recordIdentity } from "../services/address-book.ts";
import { reconcile } from "../services/reconcile.ts";
import { sendOutbound } from "../services/sending.ts";

interface ConsumerDeps {
  config: MessageSenderConfig;
  db: Db;
  broker: Broker;
  logger: Logger;
}

/** The worker's consumers: the address book (identity.*) and the sender (outbound.send). */
export async function startConsumers(
  { config, db, broker, logger }: ConsumerDeps,
  injected: Channels,
): Promise<Stop> {
  const channels = new ChannelRegistry(db, logger, config, injected);
  const prefetch = config.AMQP_PREFETCH;
  const record = async (identity: IdentityChanged, ctx: MessageContext) => {
    if (!(await recordIdentity(db, identity))) {
      ctx.log.info({ identity: identity.id }, "identity event older than the address book entry; ignored");
    }
  };
  const addressBook = await broker.consume(
    "message-sender.address-book",
    {
      "identity.created": record,
      "identity.updated": record,
      "identity.deleted": ({ id }) => forgetIdentity(db, id),
    },
    { prefetch },
  );
  const delaysMs = retryDelays(config);
  const sender = {
    db,
    channels,
    worker: config.WORKER_ID,
    claimTtlMs: config.OUTBOUND_CLAIM_TTL_MS,
    pauseMaxWaitMs: config.CHANNEL_PAUSE_MAX_WAIT_MS,
    maxAttempts: queues["message-sender.outbound-send"].retry.maxAttempts,
  };
  const outbounds = await broker.consume(
    "message-sender.outbound-send",
    { "outbound.send": (command, ctx) => sendOutbound(sender, command, ctx.log, ctx.attempt) },
    { prefetch, retry: delaysMs && { delaysMs } },
  );
  // The reconciler: a pass every RECONCILE_INTERVAL_MS, never two at once in this worker.
  let reconciling: Promise<unknown> | undefined;
  const reconciler =
    config.RECONCILE_INTERVAL_MS > 0
      ? setInterval(() => {
          reconciling ??= reconcile(db, channels, config.RECONCILE_AFTER_MS, logger)
            .catch((err: unknown) => logger.warn({ err }, "reconciliation failed"))
            .finally(() => {
              reconciling = undefined;
            });
        }, config.RECONCILE_INTERVAL_MS)
      : undefined;
  reconciler?.unref();
  return async () => {
    clearInterval(reconciler);
    await reconciling;
    await outbounds.stop();
    await addressBook.stop();
    await channels.close();
  };
}
