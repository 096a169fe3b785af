import { dryRunSets } from "../config.ts";
import { sendNext } from "../services/send.ts";
import type { WorkerDeps } from "./deps.ts";

/** `subscription.send-next`: each subscription of a batch is sent its next message. */
export function consumeSendNext({ broker, db, config }: WorkerDeps) {
  const options = { fallbackLanguage: config.FALLBACK_LANGUAGE, dryRunSets: dryRunSets(config) };
  return broker.consume(
    "subscription.send-next",
    { "subscription.send-next": (command, ctx) => sendNext(db, broker, command, ctx, options) },
    { prefetch: config.AMQP_PREFETCH },
  );
}
