import { applyDeliveryReport } from "../services/delivery.ts";
import type { WorkerDeps } from "./deps.ts";

/** `identity.delivery-reports`: each delivery report feeds its identity's consecutive-failure counter. */
export const consumeDeliveryReports = ({ broker, db, config }: WorkerDeps) =>
  broker.consume(
    "identity.delivery-reports",
    {
      "outbound.delivery_report": (report, ctx) =>
        applyDeliveryReport(db, report, ctx, config.MAX_CONSECUTIVE_SEND_FAILURES),
    },
    { prefetch: config.AMQP_PREFETCH },
  );
