import { startConfiguredHookDispatcher } from "@tidings/hooks";
import type { Stop } from "@tidings/service-kit";
import { consumeContent } from "./content.consumer.ts";
import type { WorkerDeps } from "./deps.ts";
import { consumeFanOut } from "./fan-out.consumer.ts";
import { consumeIdentityCopy } from "./identity-copy.consumer.ts";
import { consumeIdentityEvents } from "./identity-events.consumer.ts";
import { consumeOutboundFailures } from "./outbound-failures.consumer.ts";
import { consumeSendNext } from "./send-next.consumer.ts";
import { consumeTopicDeliveries } from "./topic-deliveries.consumer.ts";
import { consumeTopicFanOut } from "./topic-fan-out.consumer.ts";
import { consumeTopicSend } from "./topic-send.consumer.ts";

/**
 * The subscription worker: content copies, fan-out of fired schedules, per-subscription sends, reactions to
 * identity events and failed sends, the topic consumers; REST hooks are delivered.
 */
export async function startConsumers(deps: WorkerDeps): Promise<Stop> {
  const consumers = [
    await consumeContent(deps),
    await consumeFanOut(deps),
    await consumeSendNext(deps),
    await consumeIdentityEvents(deps),
    await consumeOutboundFailures(deps),
    await consumeIdentityCopy(deps),
    await consumeTopicFanOut(deps),
    await consumeTopicSend(deps),
    await consumeTopicDeliveries(deps),
  ];
  const stopHooks = startConfiguredHookDispatcher(deps.db, deps.logger, deps.config);
  return async () => {
    await stopHooks();
    await Promise.all(consumers.map((c) => c.stop()));
  };
}
