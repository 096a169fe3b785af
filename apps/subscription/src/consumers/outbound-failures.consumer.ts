import { reactToFailedOutbound } from "../services/reactions.ts";
import type { WorkerDeps } from "./deps.ts";

/** `subscription.outbound-failures`: a send that failed for want of an address marks its subscription. */
export const consumeOutboundFailures = ({ broker, db, config }: WorkerDeps) =>
  broker.consume(
    "subscription.outbound-failures",
    { "outbound.failed": (failed, ctx) => reactToFailedOutbound(db, failed, ctx) },
    { prefetch: config.AMQP_PREFETCH },
  );
