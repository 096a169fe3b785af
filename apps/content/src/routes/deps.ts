import type { ServiceDeps } from "@tidings/service-kit";
import type { ContentConfig } from "../config.ts";
import type { Db } from "../db.ts";
import type { MediaDeps } from "../services/binarycontent.ts";

/** What every route module of the content API receives: the service's deps and its media storage. */
export type RouteDeps = ServiceDeps<ContentConfig, Db> & MediaDeps;

/** The request id correlates the events a request causes. */
export const contextOf = (request: { id: string }) => ({ correlationId: request.id });
