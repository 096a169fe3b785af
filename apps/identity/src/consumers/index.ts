import { startConfiguredHookDispatcher } from "@tidings/hooks";
import { type Stop, stopAll } from "@tidings/service-kit";
import { consumeDeliveryReports } from "./delivery-reports.consumer.ts";
import type { WorkerDeps } from "./deps.ts";
import { consumeForgets } from "./forgets.consumer.ts";
import { consumeInbound } from "./inbound.consumer.ts";
import { consumeProviderOptOuts } from "./provider-optouts.consumer.ts";
import { consumeUnsubscribes } from "./unsubscribes.consumer.ts";

/**
 * The worker: delivery reports feed each identity's consecutive-failure counter; inbound STOP/START become
 * opt-outs/opt-ins, providers' reports of unsubscribed recipients (optout.reported) stop opt-outs, and unsubscribe
 * links (topic.unsubscribed) unsubscribe opt-outs; a forget's dead letters are removed (optout.created); REST hooks
 * are delivered.
 */
export async function startConsumers(deps: WorkerDeps): Promise<Stop> {
  const stopHooks = startConfiguredHookDispatcher(deps.db, deps.logger, deps.config);
  const reports = await consumeDeliveryReports(deps);
  const inbound = await consumeInbound(deps);
  const providerOptOuts = await consumeProviderOptOuts(deps);
  const unsubscribes = await consumeUnsubscribes(deps);
  const forgets = await consumeForgets(deps);
  return stopAll(deps.logger, {
    forgets: () => forgets.stop(),
    unsubscribes: () => unsubscribes.stop(),
    providerOptOuts: () => providerOptOuts.stop(),
    inbound: () => inbound.stop(),
    reports: () => reports.stop(),
    hooks: stopHooks,
  });
}
