import type { Broker, MessageContext } from "@tidings/amqp";
import { type IdentityChanged, queues } from "@tidings/contracts";
import type { Clock, Stop } from "@tidings/service-kit";
import { buildAdapter } from "../channels/adapters.ts";
import { ChannelCache } from "../channels/channel-cache.ts";
import { type MessageSenderConfig, retryDelays } from "../config.ts";
import { recordOptIn, recordOptOut } from "../consent/consent.ts";
import type { Db } from "../db.ts";
import { reconcile } from "../delivery-reports/reconcile.ts";
import { forgetPerson } from "../forget/forget.ts";
import type { Channels, Logger } from "../outbound/channel.ts";
import { forgetIdentity, recordIdentity } from "../recipients/address-book.ts";
import { identityDirectory } from "../recipients/identity-directory.ts";
import { releaseDue } from "../sending/due.ts";
import { sendOutbound } from "../sending/send-outbound.ts";
import { forgetTemplate, recordTemplate } from "../templates/templates.ts";

interface ConsumerDeps {
  config: MessageSenderConfig;
  db: Db;
  broker: Broker;
  logger: Logger;
}

/**
 * The worker's consumers: the address book (identity.*, and forget opt-outs), the template copy
 * (content.template.*) and the sender (outbound.send).
 */
export async function startConsumers(
  { config, db, broker, logger }: ConsumerDeps,
  injected: Channels,
  clock: Clock,
): Promise<Stop> {
  const channels = new ChannelCache(db, config.CHANNEL_CACHE_TTL_MS, {
    injected,
    build: (row) => buildAdapter(row, logger, config),
  });
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
      "optout.created": async (optout, ctx) => {
        const forgotten = await forgetPerson(db, optout);
        if (forgotten) {
          ctx.log.info(
            { identity: optout.identity, ...forgotten },
            "identity forgotten: sends cancelled, messages redacted",
          );
        }
      },
    },
    { prefetch },
  );
  const consent = await broker.consume(
    "message-sender.consent",
    {
      "optout.created": (optout) => recordOptOut(db, optout),
      "optin.created": (optin) => recordOptIn(db, optin),
    },
    { prefetch },
  );
  const templates = await broker.consume(
    "message-sender.templates",
    {
      "content.template.changed": (template) => recordTemplate(db, template),
      "content.template.deleted": ({ id }) => forgetTemplate(db, id),
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
    clock,
    identities: identityDirectory(config),
  };
  // One consumer per priority lane, each on its own queue and channel with its own prefetch: a bulk backlog
  // fills only the bulk consumer's window, so a high message is taken at once.
  const lanes = [
    ["message-sender.outbound-send-high", config.OUTBOUND_PREFETCH_HIGH],
    ["message-sender.outbound-send", prefetch],
    ["message-sender.outbound-send-bulk", config.OUTBOUND_PREFETCH_BULK],
  ] as const;
  const outbounds = await Promise.all(
    lanes.map(([queue, lanePrefetch]) =>
      broker.consume(
        queue,
        { "outbound.send": (command, ctx) => sendOutbound(sender, command, ctx.log, ctx.attempt) },
        { prefetch: lanePrefetch, retry: delaysMs && { delaysMs } },
      ),
    ),
  );
  const reconciler = every(config.RECONCILE_INTERVAL_MS, logger, "reconciliation", () =>
    reconcile(db, channels, config.RECONCILE_AFTER_MS, logger),
  );
  const duePoller = every(config.DUE_POLL_INTERVAL_MS, logger, "due-message poll", async () => {
    const { released, expired } = await releaseDue(db, clock());
    if (released + expired > 0) {
      logger.info({ released, expired }, "due outbounds released; expired ones marked");
    }
  });
  return async () => {
    await reconciler();
    await duePoller();
    await Promise.all(outbounds.map((consumer) => consumer.stop()));
    await addressBook.stop();
    await consent.stop();
    await templates.stop();
    await channels.close();
  };
}

/** Runs `pass` every `intervalMs` (0 = never), never two at once; the returned stop waits for a running one. */
function every(intervalMs: number, logger: Logger, what: string, pass: () => Promise<unknown>): Stop {
  let running: Promise<unknown> | undefined;
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          running ??= pass()
            .catch((err: unknown) => logger.warn({ err }, `${what} failed`))
            .finally(() => {
              running = undefined;
            });
        }, intervalMs)
      : undefined;
  timer?.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
