import { forgetOwnDeadLetters, forgottenNeedles } from "@tidings/service-kit";
import type { WorkerDeps } from "./deps.ts";

/**
 * `identity.forgets`: on a forget (this service's own `optout.created`; its database forgot the person in the
 * opt-out's transaction), the person's dead letters leave identity's dead-letter queues. Other opt-outs change
 * nothing here.
 */
export const consumeForgets = ({ broker, config }: WorkerDeps) =>
  broker.consume(
    "identity.forgets",
    {
      "optout.created": async (optout, ctx) => {
        if (optout.optout_type !== "forget") {
          return;
        }
        const deadLetters = await forgetOwnDeadLetters(broker, "identity", forgottenNeedles(optout));
        ctx.log.info({ identity: optout.identity, deadLetters }, "forgotten identity's dead letters removed");
      },
    },
    { prefetch: config.AMQP_PREFETCH },
  );
