import type { Clock, ServiceDeps } from "@tidings/service-kit";
import type { SubscriptionConfig } from "../config.ts";
import type { Db } from "../db.ts";

/** What every route module of the subscription API receives: the service's deps and its clock. */
export interface RouteDeps extends ServiceDeps<SubscriptionConfig, Db> {
  clock: Clock;
}

/** Who acts in a request: its API user (null for the admin token), and the request id to correlate with. */
export const actorOf = (request: { principal: { userId: number | null }; id: string }) => ({
  userId: request.principal.userId,
  correlationId: request.id,
});
