import { applyKeyword } from "../services/keywords.ts";
import { consentRequest, type WorkerDeps } from "./deps.ts";

/** `identity.inbound`: inbound STOP/START keywords become opt-outs/opt-ins. */
export const consumeInbound = ({ broker, db, config }: WorkerDeps) =>
  broker.consume(
    "identity.inbound",
    {
      "inbound.received": async (message, ctx) =>
        ctx.log.debug(
          { outcome: await applyKeyword(db, message, ctx.log, consentRequest(config, ctx)) },
          "inbound handled",
        ),
    },
    { prefetch: config.AMQP_PREFETCH },
  );
