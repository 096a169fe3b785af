import type { Broker, MessageContext } from "@tidings/amqp";
import type { IdentityChanged } from "@tidings/contracts";
import type { Stop } from "@tidings/service-kit";
import type { Channels } from "../channels/channel.ts";
import { type MessageSenderConfig, retryDelays } from "../config.ts";
import type { Db } from "../db.ts";
import { forgetIdentity, recordIdentity } from "../services/address-book.ts";
import { sendOutbound } from "../services/sending.ts";

interface ConsumerDeps {
  config: MessageSenderConfig;
  db: Db;
  broker: Broker;
}

/** The worker's consumers: the address book (identity.*) and the sender (outbound.send). */
export async function startConsumers(
  { config, db, broker }: ConsumerDeps,
  channels: Channels,
): Promise<Stop> {
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
  const sender = { db, channels, worker: config.WORKER_ID, claimTtlMs: config.OUTBOUND_CLAIM_TTL_MS };
  const outbounds = await broker.consume(
    "message-sender.outbound-send",
    { "outbound.send": (command, ctx) => sendOutbound(sender, command, ctx.log) },
    { prefetch, retry: delaysMs && { delaysMs } },
  );
  return async () => {
    await outbounds.stop();
    await addressBook.stop();
  };
}
