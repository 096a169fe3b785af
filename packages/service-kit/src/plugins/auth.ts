import type { SqlExecutor } from "@tidings/amqp";
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { Logger } from "pino";
import { type Principal, refuseKeyKind, TokenAuthenticator } from "../auth.ts";
import { RetryLaterError } from "../errors.ts";
import { registerIdempotency } from "../idempotency.ts";
import { enforceKeyLimits, RateLimiter, RefusalLimiter } from "../limits.ts";
import { HEALTH } from "./health.ts";

export interface AuthOptions {
  db: SqlExecutor;
  logger: Logger;
  adminToken?: string;
  /** The database's URL, for the connection that hears token revocations (without it, tokens are not cached). */
  databaseUrl?: string;
  /**
   * Refused requests a minute per client address (the public routes' 4xx but 429, health aside, and the other routes'
   * 401s) before the address is answered 429 for the rest of the minute; absent or 0: no limit.
   */
  publicRateLimit?: number;
  /** Refuse `test` and `team` keys on every route (see `refuseKeyKind`); else only on `liveKeysOnly` routes. */
  liveKeysOnly?: boolean;
}

declare module "fastify" {
  interface FastifyInstance {
    /** The API's token authenticator (the token routes issue and revoke through it). */
    authenticator: TokenAuthenticator;
  }
}

/**
 * Token auth on every route not marked public (`request.principal`), each key's rate and daily limits, the refusal of
 * `test` and `team` keys where they cannot be kept (`liveKeysOnly`), Idempotency-Key replays, and the per-address
 * limit of refused requests (the public routes' 4xx, the other routes' 401s). Register it before any route: the
 * rate-limit plugin adds its hook to the routes declared after it.
 */
export const authPlugin = fp<AuthOptions>(
  async (app, options) => {
    // Without the database's URL nothing announces revocations to this process: then it caches no token.
    const authenticator = new TokenAuthenticator(options.db, options.adminToken, {
      cacheTtlMs: options.databaseUrl ? undefined : 0,
    });
    if (options.databaseUrl) {
      await authenticator.watchRevocations(options.databaseUrl, options.logger);
      app.addHook("onClose", () => authenticator.close());
    }
    app.decorate("authenticator", authenticator);
    const rateLimiter = new RateLimiter();
    // Per client address, counting refusals only: every 4xx (but 429) of the public routes, and the 401s of the
    // others, where a bad token costs a database look-up each. Authenticated requests have their key's limits too.
    const refusals = options.publicRateLimit ? new RefusalLimiter(options.publicRateLimit) : undefined;
    const tooManyRefused = (wait: number) =>
      new RetryLaterError(
        "RATE_LIMITED",
        `At most ${refusals?.max} refused requests a minute from one address to this API.`,
        wait,
      );
    /**
     * The request's key. Past its address's limit, only a key known without the database is served (ADMIN_TOKEN, a
     * token this process verified lately): any other is answered 429 without a look-up.
     */
    const authenticate = async (request: FastifyRequest) => {
      const wait = refusals?.wait(request.ip) ?? 0;
      if (wait === 0) {
        return authenticator.authenticateKey(request.headers.authorization);
      }
      const key = authenticator.knownKey(request.headers.authorization);
      if (!key) {
        throw tooManyRefused(wait);
      }
      return key;
    };
    app.decorateRequest("principal", null as unknown as Principal);
    app.addHook("onRequest", async (request) => {
      if (request.routeOptions.config.public || !request.routeOptions.url) {
        return; // public routes, and unknown ones (they answer 404)
      }
      const key = await authenticate(request);
      request.principal = key.principal;
      await enforceKeyLimits(options.db, rateLimiter, key);
      if (
        key.principal.keyKind !== "live" &&
        (options.liveKeysOnly || request.routeOptions.config.liveKeysOnly)
      ) {
        throw refuseKeyKind(key.principal);
      }
    });
    registerIdempotency(app as FastifyInstance, options.db);
    if (refusals) {
      const limited = (request: FastifyRequest) =>
        request.routeOptions.config.public === true && request.routeOptions.url !== HEALTH;
      // Callback hooks: nothing here waits, and an async hook costs every request a promise.
      app.addHook("onRequest", (request, _reply, done) => {
        const wait = limited(request) ? refusals.wait(request.ip) : 0;
        done(wait > 0 ? tooManyRefused(wait) : undefined);
      });
      app.addHook("onResponse", (request, reply, done) => {
        const status = reply.statusCode;
        const refused = limited(request)
          ? status >= 400 && status < 500 && status !== 429
          : status === 401 && request.routeOptions.config.public !== true;
        if (refused) {
          refusals.refused(request.ip);
        }
        done();
      });
    }
  },
  { name: "tidings-auth" },
);
