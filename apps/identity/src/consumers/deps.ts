import type { Handlers, MessageContext } from "@tidings/amqp";
import type { Payload, QueueMessages } from "@tidings/contracts";
import type { Logger, ServiceDeps } from "@tidings/service-kit";
import type { IdentityConfig } from "../config.ts";
import type { Db } from "../db.ts";

/** What every consumer of the identity worker receives. */
export type WorkerDeps = ServiceDeps<IdentityConfig, Db>;

/** What each consent request needs from its message: the country for local numbers, and the ids it carries on. */
export const consentRequest = (config: IdentityConfig, ctx: MessageContext) => ({
  defaultCountry: config.DEFAULT_COUNTRY,
  messageId: ctx.messageId,
  correlationId: ctx.correlationId,
});

type ConsentQueue = "identity.inbound" | "identity.provider-optouts" | "identity.unsubscribes";

/**
 * Consumes a queue whose one message is a consent request (an opt-out or opt-in): `apply` records it with the
 * message's {@link consentRequest} options, and its outcome is logged as "`what` handled".
 */
export const consumeConsentRequests = <Q extends ConsentQueue>(
  { broker, db, config }: WorkerDeps,
  queue: Q,
  name: QueueMessages<Q>,
  apply: (
    db: Db,
    payload: Payload<QueueMessages<Q>>,
    log: Logger,
    options: ReturnType<typeof consentRequest>,
  ) => Promise<string>,
  what: string,
) => {
  const handle = async (payload: Payload<QueueMessages<Q>>, ctx: MessageContext) =>
    ctx.log.debug(
      { outcome: await apply(db, payload, ctx.log, consentRequest(config, ctx)) },
      `${what} handled`,
    );
  return broker.consume(queue, { [name]: handle } as Handlers<QueueMessages<Q>>, {
    prefetch: config.AMQP_PREFETCH,
  });
};
