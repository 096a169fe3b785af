import { applyProviderOptOut } from "../services/keywords.ts";
import { consentRequest, type WorkerDeps } from "./deps.ts";

/** `identity.provider-optouts`: a provider's report of an unsubscribed recipient becomes a stop opt-out. */
export const consumeProviderOptOuts = ({ broker, db, config }: WorkerDeps) =>
  broker.consume(
    "identity.provider-optouts",
    {
      "optout.reported": async (report, ctx) =>
        ctx.log.debug(
          { outcome: await applyProviderOptOut(db, report, ctx.log, consentRequest(config, ctx)) },
          "provider opt-out handled",
        ),
    },
    { prefetch: config.AMQP_PREFETCH },
  );
