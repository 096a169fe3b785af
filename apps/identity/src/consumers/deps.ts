import type { MessageContext } from "@tidings/amqp";
import type { ServiceDeps } from "@tidings/service-kit";
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
