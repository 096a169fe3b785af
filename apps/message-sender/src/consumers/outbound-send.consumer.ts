import { queues } from "@tidings/contracts";
import type { Stop } from "@tidings/service-kit";
import { retryDelays } from "../config.ts";
import { SendPermits } from "../sending/claim-window.ts";
import { sendOutbound } from "../sending/send-outbound.ts";
import type { Sender } from "../sending/sender.ts";
import type { ConsumerDeps } from "./consumer-deps.ts";

/**
 * `message-sender.outbound-send` and its two priority lanes (`-high`, `-bulk`): the same `outbound.send` handler
 * on three queues, each consumed on its own channel with its own prefetch, so a bulk backlog fills only the bulk
 * consumer's window and a high message is taken at once. At most OUTBOUND_SENDS_IN_FLIGHT of the three windows are
 * claimed and sent at a time (a freed place goes to the high lane first).
 */
export async function startOutboundSendConsumers(
  { config, broker }: ConsumerDeps,
  sender: Sender,
): Promise<Stop> {
  const delaysMs = retryDelays(config);
  const lanes = [
    ["message-sender.outbound-send-high", config.OUTBOUND_PREFETCH_HIGH, "high"],
    ["message-sender.outbound-send", config.AMQP_PREFETCH, "normal"],
    ["message-sender.outbound-send-bulk", config.OUTBOUND_PREFETCH_BULK, "bulk"],
  ] as const;
  // Only the sends that hold a permit claim their outbounds (together, see ClaimBatcher) and send them.
  const permits = new SendPermits(config.OUTBOUND_SENDS_IN_FLIGHT);
  const consumers = await Promise.all(
    lanes.map(([queue, prefetch, lane]) =>
      broker.consume(
        queue,
        {
          "outbound.send": (command, ctx) =>
            permits.run(lane, () => sendOutbound(sender, command, ctx.log, ctx.attempt)),
        },
        { prefetch, retry: delaysMs && { delaysMs } },
      ),
    ),
  );
  return async () => {
    await Promise.all(consumers.map((consumer) => consumer.stop()));
  };
}

/** outbound.send deliveries before a passing failure is recorded as a failed task (the queue's retry policy). */
export const OUTBOUND_SEND_MAX_ATTEMPTS = queues["message-sender.outbound-send"].retry.maxAttempts;
