import { applyUnsubscribe } from "../services/unsubscribes.ts";
import { consentRequest, type WorkerDeps } from "./deps.ts";

/** `identity.unsubscribes`: unsubscribe links (`topic.unsubscribed`) become unsubscribe opt-outs. */
export const consumeUnsubscribes = ({ broker, db, config }: WorkerDeps) =>
  broker.consume(
    "identity.unsubscribes",
    {
      "topic.unsubscribed": async (event, ctx) =>
        ctx.log.debug(
          { outcome: await applyUnsubscribe(db, event, ctx.log, consentRequest(config, ctx)) },
          "unsubscribe handled",
        ),
    },
    { prefetch: config.AMQP_PREFETCH },
  );
