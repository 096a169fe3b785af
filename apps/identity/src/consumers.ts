import { isFirstDelivery, type MessageContext } from "@tidings/amqp";
import { startConfiguredHookDispatcher } from "@tidings/hooks";
import type { ServiceDeps, Stop } from "@tidings/service-kit";
import type { IdentityConfig } from "./config.ts";
import type { Db } from "./db.ts";
import { recordDeliveryResult } from "./services/delivery.ts";
import { applyKeyword, applyProviderOptOut } from "./services/keywords.ts";
import { applyUnsubscribe } from "./services/unsubscribes.ts";

/**
 * The worker: delivery reports feed each identity's consecutive-failure counter; inbound STOP/START become
 * opt-outs/opt-ins, providers' reports of unsubscribed recipients (optout.reported) stop opt-outs, and unsubscribe
 * links (topic.unsubscribed) unsubscribe opt-outs; REST hooks are delivered.
 */
export async function startConsumers({
  config,
  db,
  broker,
  logger,
}: ServiceDeps<IdentityConfig, Db>): Promise<Stop> {
  const stopHooks = startConfiguredHookDispatcher(db, logger, config);
  const reports = await broker.consume(
    "identity.delivery-reports",
    {
      "outbound.delivery_report": async (report, ctx) => {
        const identity = report.identity;
        if (!identity) {
          ctx.log.info({ outbound: report.outbound_id }, "delivery report without an identity; ignored");
          return;
        }
        await db.$transaction(async (tx) => {
          if (!(await isFirstDelivery(tx, ctx))) {
            return;
          }
          const n = await recordDeliveryResult(
            tx,
            identity,
            report.delivered,
            config.MAX_CONSECUTIVE_SEND_FAILURES,
            {
              correlationId: ctx.correlationId,
            },
          );
          if (n === null) {
            ctx.log.info({ identity }, "delivery report for an unknown identity; ignored");
          }
        });
      },
    },
    { prefetch: config.AMQP_PREFETCH },
  );
  // What each consent request needs from its message: the country for local numbers, and the ids it carries on.
  const request = (ctx: MessageContext) => ({
    defaultCountry: config.DEFAULT_COUNTRY,
    messageId: ctx.messageId,
    correlationId: ctx.correlationId,
  });
  const prefetch = { prefetch: config.AMQP_PREFETCH };
  const inbound = await broker.consume(
    "identity.inbound",
    {
      "inbound.received": async (message, ctx) =>
        ctx.log.debug({ outcome: await applyKeyword(db, message, ctx.log, request(ctx)) }, "inbound handled"),
    },
    prefetch,
  );
  const providerOptOuts = await broker.consume(
    "identity.provider-optouts",
    {
      "optout.reported": async (report, ctx) =>
        ctx.log.debug(
          { outcome: await applyProviderOptOut(db, report, ctx.log, request(ctx)) },
          "provider opt-out handled",
        ),
    },
    prefetch,
  );
  const unsubscribes = await broker.consume(
    "identity.unsubscribes",
    {
      "topic.unsubscribed": async (event, ctx) =>
        ctx.log.debug(
          { outcome: await applyUnsubscribe(db, event, ctx.log, request(ctx)) },
          "unsubscribe handled",
        ),
    },
    prefetch,
  );
  return async () => {
    await unsubscribes.stop();
    await providerOptOuts.stop();
    await inbound.stop();
    await reports.stop();
    await stopHooks();
  };
}
