import { randomUUID } from "node:crypto";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { type Broker, lazyChild, type SqlExecutor } from "@tidings/amqp";
import Fastify, { type FastifyBaseLogger } from "fastify";
import type { Logger } from "pino";
import { ApiError } from "./errors.ts";
import { authPlugin } from "./plugins/auth.ts";
import { docsPlugin } from "./plugins/docs.ts";
import { errorHandlerPlugin, sendError } from "./plugins/error-handler.ts";
import { healthPlugin } from "./plugins/health.ts";
import { metricsPlugin } from "./plugins/metrics.ts";
import { tokensPlugin } from "./plugins/tokens.ts";
import { tracingPlugin } from "./plugins/tracing.ts";
import { validationPlugin } from "./plugins/validation.ts";
import type { Api } from "./routes.ts";

export interface ApiDeps {
  service: string;
  version: string;
  logger: Logger;
  /** The service's database (Prisma client): health checks and API tokens. */
  db: SqlExecutor;
  /** Absent in tests of an API alone; health then reports the broker as not configured. */
  broker?: Broker;
  adminToken?: string;
  /** The base of the absolute URLs the API answers with (see `externalUrl`); absent, the request's. */
  publicUrl?: string;
  /**
   * The proxies (addresses, CIDRs; see `trustedProxies`) whose X-Forwarded-* headers are believed: the client's
   * address, protocol and host. Absent or empty: none, the peer is the client.
   */
  trustProxy?: string[];
  /** The database's URL, for the connection that hears token revocations (without it, tokens are not cached). */
  databaseUrl?: string;
  /** Refused requests a minute per client address (PUBLIC_RATE_LIMIT; see the auth plugin); absent or 0: no limit. */
  publicRateLimit?: number;
  /**
   * Refuse `test` and `team` keys on every route (403 KEY_KIND_NOT_ALLOWED): the API of a service whose routes do
   * not keep them (see ServiceDefinition.keyKinds). Absent: only routes with `config.liveKeysOnly` refuse them.
   */
  liveKeysOnly?: boolean;
}

/** The largest request body a route reads unless it sets its own `bodyLimit`. */
const BODY_LIMIT = 5 * 1024 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The fastify app of one service, composed of named plugins (./plugins/): validation, token auth and limits on every
 * route not marked public, Prometheus metrics, one error shape, OpenAPI docs at /docs, health, and the token routes.
 * `register` adds the service's own routes. The app never listens; `main.ts` does, and tests use `inject`.
 */
export async function buildApi(deps: ApiDeps, register: (app: Api) => Promise<void> | void): Promise<Api> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // A request's logger is made when it first logs a line its level lets through.
    childLoggerFactory: (logger, bindings, options) => lazyChild(logger as Logger, bindings, options),
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    trustProxy: deps.trustProxy?.length ? deps.trustProxy : false,
    routerOptions: { ignoreTrailingSlash: true },
    bodyLimit: BODY_LIMIT,
    // A path the router cannot decode (`/api/v1/identities/%ZZ/`) is answered before any route or hook: in the one
    // error shape too, not fastify's own.
    frameworkErrors: (error, request, reply) =>
      sendError(
        error.code === "FST_ERR_BAD_URL"
          ? new ApiError(400, "INVALID_URL", "The request's path is not valid percent-encoded text.", [
              { field: "url", message: "malformed percent-encoding" },
            ])
          : error,
        request,
        reply,
      ),
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.decorate("publicUrl", deps.publicUrl);
  // Hooks on every request take a callback: an async one costs a promise and a microtask per request.
  app.addHook("onSend", (request, reply, payload, done) => {
    reply.header("x-request-id", request.id);
    done(null, payload);
  });

  // The order matters: a route keeps the error handler set when it is declared, the auth plugin's per-address limit
  // covers only the routes declared after it, and the docs describe only those declared after them.
  await app.register(tracingPlugin); // first: every other hook runs in the request's span
  await app.register(validationPlugin);
  await app.register(authPlugin, {
    db: deps.db,
    logger: deps.logger,
    adminToken: deps.adminToken,
    databaseUrl: deps.databaseUrl,
    publicRateLimit: deps.publicRateLimit,
    liveKeysOnly: deps.liveKeysOnly,
  });
  await app.register(errorHandlerPlugin);
  await app.register(metricsPlugin, { service: deps.service });
  await app.register(docsPlugin, {
    service: deps.service,
    version: deps.version,
    bodyLimit: BODY_LIMIT,
    publicRateLimit: Boolean(deps.publicRateLimit),
  });
  await app.register(healthPlugin, { version: deps.version, db: deps.db, broker: deps.broker });
  await app.register(tokensPlugin, { liveKeysOnly: deps.liveKeysOnly });

  await register(app);
  return app;
}
