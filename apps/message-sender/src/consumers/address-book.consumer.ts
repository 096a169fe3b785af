import type { Stop } from "@tidings/service-kit";
import { applyForget } from "../forget/forget.ts";
import { applyIdentityEvent, forgetIdentity } from "../recipients/address-book.ts";
import type { ConsumerDeps } from "./consumer-deps.ts";

/** `message-sender.address-book`: the local copy of identities' addresses (identity.*), and forgets (optout.created). */
export async function startAddressBookConsumer({ config, db, broker }: ConsumerDeps): Promise<Stop> {
  const consumer = await broker.consume(
    "message-sender.address-book",
    {
      "identity.created": (identity, ctx) => applyIdentityEvent(db, identity, ctx.log),
      "identity.updated": (identity, ctx) => applyIdentityEvent(db, identity, ctx.log),
      "identity.deleted": ({ id }) => forgetIdentity(db, id),
      "optout.created": (optout, ctx) => applyForget(db, broker, optout, ctx.log),
    },
    { prefetch: config.AMQP_PREFETCH },
  );
  return () => consumer.stop();
}
