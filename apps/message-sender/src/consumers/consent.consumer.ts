import type { Stop } from "@tidings/service-kit";
import { recordOptIn, recordOptOut } from "../consent/consent.ts";
import type { ConsumerDeps } from "./consumer-deps.ts";

/** `message-sender.consent`: the local copy of identity's consent ledger (optout.created, optin.created). */
export async function startConsentConsumer({ config, db, broker }: ConsumerDeps): Promise<Stop> {
  const consumer = await broker.consume(
    "message-sender.consent",
    {
      "optout.created": (optout) => recordOptOut(db, optout),
      "optin.created": (optin) => recordOptIn(db, optin),
    },
    { prefetch: config.AMQP_PREFETCH },
  );
  return () => consumer.stop();
}
