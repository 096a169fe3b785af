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
  /** Requests a minute per client address to the public routes (health aside); absent or 0: no limit. */
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
 * `test` and `team` keys where they cannot be kept (`liveKeysOnly`), Idempotency-Key
 * replays, and the per-address limit of the public routes. Register it before any route: the rate-limit plugin adds
 * its hook to the routes declared after it.
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
    app.decorateRequest("principal", null as unknown as Principal);
    app.addHook("onRequest", async (request) => {
      if (request.routeOptions.config.public || !request.routeOptions.url) {
        return; // public routes, and unknown ones (they answer 404)
      }
      const key = await authenticator.authenticateKey(request.headers.authorization);
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
    if (options.publicRateLimit) {
      // Per client address, across this process's public routes, counting refusals only (RefusalLimiter);
      // authenticated routes have their key's limits instead.
      const limiter = new RefusalLimiter(options.publicRateLimit);
      const limited = (request: FastifyRequest) =>
        request.routeOptions.config.public === true && request.routeOptions.url !== HEALTH;
      // Callback hooks: nothing here waits, and an async hook costs every request a promise.
      app.addHook("onRequest", (request, _reply, done) => {
        const wait = limited(request) ? limiter.wait(request.ip) : 0;
        done(
          wait > 0
            ? new RetryLaterError(
                "RATE_LIMITED",
                `At most ${limiter.max} refused requests a minute from one address to this API's public routes.`,
                wait,
              )
            : undefined,
        );
      });
      app.addHook("onResponse", (request, reply, done) => {
        if (
          limited(request) &&
          reply.statusCode >= 400 &&
          reply.statusCode < 500 &&
          reply.statusCode !== 429
        ) {
          limiter.refused(request.ip);
        }
        done();
      });
    }
  },
  { name: "tidings-auth" },
);
