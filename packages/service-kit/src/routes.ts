/**
 * What route modules use: the API's type, the error responses for their schemas and `requireAdmin`. Kept apart
 * from ./app.ts (fastify, its OpenAPI plugins, prom-client), which only the API role loads (see `routes` in
 * ./service.ts): @tidings/service-kit's index exports these, and worker code imports that index.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { ErrorResponse } from "@tidings/contracts";
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawServerDefault } from "fastify";
import type { Principal } from "./auth.ts";
import { ApiError } from "./errors.ts";

export type Api = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** No Authorization needed (health, docs, provider callbacks verified by signature). */
    public?: boolean;
    /**
     * Refuse `test` and `team` keys (403 KEY_KIND_NOT_ALLOWED) even in an API that takes them (`keyKinds:
     * "enforced"`): the route acts for anybody (a STOP for any number, a requeue of everyone's sends), so no
     * allow-list or log channel can bound it.
     */
    liveKeysOnly?: boolean;
  }
}

/**
 * A route's `bodyLimit` for public provider callbacks (form posts of a few hundred bytes): a larger body is
 * `413 BODY_TOO_LARGE` before it is read further. Other routes have the API's limit (5 MB).
 */
export const CALLBACK_BODY_LIMIT = 64 * 1024;

/**
 * The error responses a route can give, for `schema.response` (they serialize the one error shape). The OpenAPI
 * document lists only those the route can really give, derived from it (see ./openapi/route.ts); a route-specific
 * error beyond those is declared with `routeError(description)`.
 */
export const errorResponses = {
  400: ErrorResponse,
  401: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
  409: ErrorResponse,
  422: ErrorResponse,
  429: ErrorResponse,
} as const;

export function requireAdmin(request: FastifyRequest): void {
  if (!request.principal?.isAdmin) {
    throw new ApiError(403, "FORBIDDEN", "You do not have permission to perform this action.");
  }
}
