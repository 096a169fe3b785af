import { randomUUID } from "node:crypto";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Broker, SqlExecutor } from "@tidings/amqp";
import { createAjv } from "@tidings/contracts";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import type { Logger } from "pino";
import { collectDefaultMetrics, Histogram, Registry } from "prom-client";
import { type Principal, TokenAuthenticator } from "./auth.ts";
import { registerJsonParser } from "./body.ts";
import { ApiError, RetryLaterError } from "./errors.ts";
import { registerIdempotency } from "./idempotency.ts";
import { enforceKeyLimits, RateLimiter } from "./limits.ts";
import { compileQuery } from "./query.ts";
import type { Api } from "./routes.ts";
import { refuseUnstorableText } from "./text.ts";
import { tokenRoutes } from "./tokens.routes.ts";

export interface ApiDeps {
  service: string;
  version: string;
  logger: Logger;
  /** The service's database (Prisma client): health checks and API tokens. */
  db: SqlExecutor;
  /** Absent in tests of an API alone; health then reports the broker as not configured. */
  broker?: Broker;
  adminToken?: string;
  publicUrl?: string;
  /**
   * The proxies (addresses, CIDRs; see `trustedProxies`) whose X-Forwarded-* headers are believed: the client's
   * address, protocol and host. Absent or empty: none, the peer is the client.
   */
  trustProxy?: string[];
  /** The database's URL, for the connection that hears token revocations (without it, tokens are not cached). */
  databaseUrl?: string;
  /** Requests a minute per client address to the public routes (health aside); absent or 0: no limit. */
  publicRateLimit?: number;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;
const HEALTH = "/api/health/";

/**
 * The fastify app of one service: token auth on every route not marked public, one error shape, health,
 * Prometheus metrics, OpenAPI docs at /docs, and POST /api/v1/user/token/. `register` adds the
 * service's own routes. The app never listens; `main.ts` does, and tests use `inject`.
 */
export async function buildApi(deps: ApiDeps, register: (app: Api) => Promise<void> | void): Promise<Api> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    trustProxy: deps.trustProxy?.length ? deps.trustProxy : false,
    routerOptions: { ignoreTrailingSlash: true },
    bodyLimit: 5 * 1024 * 1024,
  }).withTypeProvider<TypeBoxTypeProvider>();

  registerJsonParser(app);
  // Bodies are JSON and validated as sent: coercing them would turn a null into "" or a 0 into null
  // (`anyOf [T, null]`). Query strings and path parameters are strings and are coerced.
  const bodyAjv = createAjv();
  const textAjv = createAjv({ coerce: true });
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === "body"
      ? bodyAjv.compile(schema)
      : httpPart === "querystring"
        ? compileQuery(textAjv, schema)
        : textAjv.compile(schema),
  );

  // Without the database's URL nothing announces revocations to this process: then it caches no token.
  const authenticator = new TokenAuthenticator(deps.db, deps.adminToken, {
    cacheTtlMs: deps.databaseUrl ? undefined : 0,
  });
  if (deps.databaseUrl) {
    await authenticator.watchRevocations(deps.databaseUrl, deps.logger);
    app.addHook("onClose", () => authenticator.close());
  }
  const rateLimiter = new RateLimiter();
  const registry = new Registry();
  registry.setDefaultLabels({ service: deps.service });
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration by route, method and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  app.decorateRequest("principal", null as unknown as Principal);
  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  app.addHook("onResponse", async (request, reply) => {
    duration
      .labels(request.method, request.routeOptions.url ?? "unmatched", String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
  });
  app.addHook("onRequest", async (request) => {
    if (request.routeOptions.config.public || !request.routeOptions.url) {
      return; // public routes, and unknown ones (they answer 404)
    }
    const key = await authenticator.authenticateKey(request.headers.authorization);
    request.principal = key.principal;
    await enforceKeyLimits(deps.db, rateLimiter, key);
  });
  registerIdempotency(app, deps.db);
  app.addHook("preValidation", refuseUnstorableText);

  if (deps.publicRateLimit) {
    // Before any route: the plugin adds its hook to the routes declared after it. One window per client address
    // for all the public routes of this process; authenticated routes have their key's limits instead.
    await app.register(rateLimit, {
      max: deps.publicRateLimit,
      timeWindow: 60_000,
      allowList: (request) => !request.routeOptions.config.public || request.routeOptions.url === HEALTH,
      errorResponseBuilder: (_request, context) =>
        new RetryLaterError(
          "RATE_LIMITED",
          `At most ${context.max} requests a minute from one address to this API's public routes.`,
          Math.max(1, Math.ceil(context.ttl / 1000)),
        ),
    });
  }

  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => sendError(err, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendError(
      new ApiError(404, "NOT_FOUND", `No route ${request.method} ${request.url.split("?")[0]}`),
      request,
      reply,
    ),
  );

  // Before the docs plugin is registered: an onRoute hook only sees routes added after it.
  app.addHook("onRoute", (route) => {
    if (route.url === "/docs" || route.url.startsWith("/docs/")) {
      route.config = { ...route.config, public: true };
    }
  });
  await app.register(swagger, {
    openapi: {
      info: { title: `Tidings ${deps.service}`, version: deps.version },
      components: {
        securitySchemes: { token: { type: "apiKey", in: "header", name: "Authorization" } },
      },
      security: [{ token: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs", uiConfig: { docExpansion: "list" } });

  app.get(HEALTH, { config: { public: true }, schema: { hide: true } }, async (_request, reply) => {
    const database = await deps.db.$queryRawUnsafe("SELECT 1").then(
      () => "Accessible",
      () => "Inaccessible",
    );
    const broker = deps.broker ? (deps.broker.isConnected ? "Connected" : "Disconnected") : "Not configured";
    const up = database === "Accessible" && broker !== "Disconnected";
    return reply.code(up ? 200 : 503).send({ up, result: { database, broker, version: deps.version } });
  });

  app.get("/metrics", { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    // Internal only (as in Seed): a request that came through a proxy chain is refused.
    if (String(request.headers["x-forwarded-for"] ?? "").includes(",")) {
      throw new ApiError(403, "FORBIDDEN", "Metrics are internal.");
    }
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  tokenRoutes(app, authenticator, deps.publicUrl);

  await register(app);
  return app;
}

interface ValidationIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params?: Record<string, unknown>;
}

/**
 * Ajv errors as `{field, message}`, one per field, the field a dotted path (`body.details.addresses`).
 * The branches of a union are merged ("must be integer or null") instead of listed one by one.
 */
function validationDetails(err: FastifyError): { field: string; message: string }[] {
  const context = err.validationContext ?? "body";
  const byField = new Map<string, string[]>();
  for (const issue of (err.validation ?? []) as ValidationIssue[]) {
    const path = issue.instancePath.split("/").filter(Boolean);
    // A missing or an unexpected property is reported on its parent: name the property itself.
    const named = issue.params?.missingProperty ?? issue.params?.additionalProperty;
    if (typeof named === "string") {
      path.push(named);
    }
    const field = [context, ...path].join(".");
    const messages = byField.get(field) ?? [];
    if (issue.keyword !== "anyOf" || messages.length === 0) {
      messages.push(issue.message ?? "is invalid");
    }
    byField.set(field, messages);
  }
  return [...byField].map(([field, messages]) => {
    const unique = [...new Set(messages)];
    const types = unique.every((m) => m.startsWith("must be "));
    return {
      field,
      message:
        types && unique.length > 1
          ? `must be ${unique.map((m) => m.slice(8)).join(" or ")}`
          : unique.join("; "),
    };
  });
}

function sendError(err: FastifyError | ApiError, request: FastifyRequest, reply: FastifyReply) {
  let status = err.statusCode ?? 500;
  let code: string;
  let message = err.message;
  let details: unknown;
  if (err instanceof ApiError) {
    code = err.code;
    details = err.details;
    if (err instanceof RetryLaterError) {
      reply.header("retry-after", String(err.retryAfterSeconds));
    }
  } else if ((err as FastifyError).validation) {
    status = 400;
    code = "VALIDATION_FAILED";
    details = validationDetails(err as FastifyError);
    message = "The request is invalid.";
  } else if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    code = "BODY_TOO_LARGE";
  } else if (status < 500) {
    code = /^FST_ERR_CTP_/.test(err.code ?? "") ? "INVALID_BODY" : (err.code ?? "BAD_REQUEST");
  } else {
    request.log.error({ err }, "unhandled error");
    status = 500;
    code = "INTERNAL_ERROR";
    message = "Internal Server Error";
  }
  const error = { code, message, ...(details === undefined ? {} : { details }), requestId: request.id };
  // Seed's (Django REST framework's) 404 body beside ours: its Python client reads only `detail` to tell a
  // missing record (`get_identity` returns None) from an error.
  return reply.code(status).send(status === 404 ? { error, detail: "Not found." } : { error });
}
