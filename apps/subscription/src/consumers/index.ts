import type { Broker, Consumer } from "@tidings/amqp";
import type { QueueName } from "@tidings/contracts";
import { deterministicId } from "@tidings/contracts";
import type { Logger } from "@tidings/service-kit";
import { dryRunSets, type SubscriptionConfig } from "../config.ts";
import type { Db } from "../db.ts";
import {
  copyMessage,
  copyMessageSet,
  copySchedule,
  deleteMessage,
  markMessageSetDeleted,
  markScheduleDeleted,
} from "../services/content-copy.ts";
import { forgetIdentity } from "../services/forget.ts";
import {
  deactivateIdentity,
  followIdentityLanguage,
  markReachable,
  markUnreachable,
  NO_ADDRESS,
} from "../services/reactions.ts";
import { ContentNotYetAvailable, fanOut, sendBatch } from "../services/send.ts";
import { copyTemplate, markTemplateDeleted } from "../services/template-copy.ts";
import { removeTopicSubscriptions } from "../services/topics.ts";
import { startTopicConsumers } from "./topics.ts";

const STOPPING_OPTOUTS: ReadonlySet<string> = new Set(["stopall", "forget", "unsubscribe"]);

/** The subscription worker's consumers: content copies, fan-out of fired schedules, and per-subscription sends. */
export async function startSubscriptionConsumers(
  broker: Broker,
  db: Db,
  config: SubscriptionConfig,
  logger: Logger,
): Promise<Consumer<QueueName>[]> {
  const prefetch = config.AMQP_PREFETCH;
  const dryRun = dryRunSets(config);
  const fan = (schedule: number, slot: string, correlationId?: string) =>
    fanOut(
      db,
      broker,
      { schedule, slot, correlationId },
      { pageSize: config.FAN_OUT_BATCH_SIZE, sendBatchSize: config.SEND_BATCH_SIZE },
    ).then((n) => logger.info({ schedule, slot, subscriptions: n }, "schedule fanned out"));
  return [
    await broker.consume(
      "subscription.content",
      {
        "content.schedule.changed": (s) => copySchedule(db, s),
        "content.schedule.deleted": ({ id }) => markScheduleDeleted(db, id),
        "content.messageset.changed": (m) => copyMessageSet(db, m),
        "content.messageset.deleted": ({ id }) => markMessageSetDeleted(db, id),
        "content.message.changed": (m) => copyMessage(db, m),
        "content.message.deleted": (m) => deleteMessage(db, m),
        "content.template.changed": (t) => copyTemplate(db, t),
        "content.template.deleted": ({ id }) => markTemplateDeleted(db, id),
      },
      { prefetch },
    ),
    await broker.consume(
      "subscription.fan-out",
      {
        "schedule.fired": async (fired, ctx) => {
          if (fired.source?.service !== "content") {
            ctx.log.debug("not a content schedule; ignored");
            return;
          }
          await fan(Number(fired.source.ref), fired.slot, ctx.messageId);
        },
        "subscription.fan-out": (command, ctx) => fan(command.schedule, command.slot, ctx.correlationId),
      },
      // A fan-out publishes a page at a time; a few in parallel are plenty.
      { prefetch: 4 },
    ),
    await broker.consume(
      "subscription.send-next",
      {
        "subscription.send-next": async (command, ctx) => {
          const outcome = await sendBatch(db, command, {
            fallbackLanguage: config.FALLBACK_LANGUAGE,
            dryRunSets: dryRun,
            log: ctx.log,
            correlationId: ctx.correlationId,
          });
          ctx.log.debug({ ...outcome, deferred: outcome.deferred.length }, "send-next handled");
          if (outcome.deferred.length === command.subscription_ids.length) {
            // Nothing else in this command: retry it, with backoff, until the content arrives.
            throw new ContentNotYetAvailable(
              `content for ${outcome.deferred.length} subscriptions is not in the local copy`,
            );
          }
          if (outcome.deferred.length > 0) {
            // The rest of the batch is sent; these few wait in a command of their own.
            await broker.publish(
              "subscription.send-next",
              { ...command, subscription_ids: outcome.deferred },
              {
                messageId: deterministicId("send-next", command.slot, ...outcome.deferred),
                correlationId: ctx.correlationId,
              },
            );
          }
        },
      },
      { prefetch },
    ),
    await broker.consume(
      "subscription.identity-events",
      {
        "identity.deleted": async ({ id }, ctx) => {
          const stopped = await deactivateIdentity(db, id, ctx.messageId);
          ctx.log.info({ identity: id, stopped }, "subscriptions of a deleted identity stopped");
        },
        "optout.created": async (optout, ctx) => {
          if (optout.optout_type === "forget") {
            await forgetIdentity(db, optout);
          }
          if (STOPPING_OPTOUTS.has(optout.optout_type)) {
            // An unsubscribe from one topic ends that topic subscription; the others end every one.
            const topic = optout.optout_type === "unsubscribe" ? optout.topic : null;
            await removeTopicSubscriptions(db, optout.identity, topic);
          }
          // stop (one address) leaves the others reachable; a topic unsubscribe is about topics only.
          if (STOPPING_OPTOUTS.has(optout.optout_type) && !optout.topic) {
            const stopped = await deactivateIdentity(db, optout.identity, ctx.messageId);
            ctx.log.info(
              { identity: optout.identity, type: optout.optout_type, stopped },
              "opt-out stopped subscriptions",
            );
          }
        },
        "identity.updated": async (identity, ctx) => {
          const lang = (identity.details as { lang_code?: unknown }).lang_code;
          if (config.SUBSCRIPTION_FOLLOW_IDENTITY_LANG && typeof lang === "string" && lang.length <= 6) {
            const moved = await followIdentityLanguage(db, identity.id, lang, ctx.messageId);
            if (moved > 0) {
              ctx.log.info(
                { identity: identity.id, lang, moved },
                "subscriptions moved to the identity's language",
              );
            }
          }
          if (identity.addresses.some((a) => !a.optedout && !a.inactive)) {
            const ready = await markReachable(db, identity.id, ctx.messageId);
            if (ready > 0) {
              ctx.log.info({ identity: identity.id, ready }, "unreachable subscriptions ready again");
            }
          }
        },
        "identity.max_failures": async ({ identity_id }, ctx) => {
          if (config.DEACTIVATE_ON_MAX_FAILURES) {
            const stopped = await deactivateIdentity(db, identity_id, ctx.messageId);
            ctx.log.info(
              { identity: identity_id, stopped },
              "subscriptions of an unreachable identity stopped",
            );
          }
        },
      },
      { prefetch },
    ),
    await broker.consume(
      "subscription.outbound-failures",
      {
        "outbound.failed": async (failed, ctx) => {
          if (failed.reason === NO_ADDRESS && failed.to_identity) {
            if (await markUnreachable(db, failed.id, failed.to_identity, ctx.messageId)) {
              ctx.log.info({ identity: failed.to_identity }, "subscription has no address; marked");
            }
          }
        },
      },
      { prefetch },
    ),
    ...(await startTopicConsumers(broker, db, config, logger)),
  ] as Consumer<QueueName>[];
}
