import type { ServiceDeps } from "@tidings/service-kit";
import type { IdentityConfig } from "../config.ts";
import type { Db } from "../db.ts";

/** What every route module of the identity API receives. */
export type RouteDeps = ServiceDeps<IdentityConfig, Db>;

/** Who acts in a request: its API user (null for the admin token), and the request id to correlate with. */
export const actorOf = (request: { principal: { userId: number | null }; id: string }) => ({
  userId: request.principal.userId,
  correlationId: request.id,
});
