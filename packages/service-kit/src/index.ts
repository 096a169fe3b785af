export type { Logger } from "pino";
export { type ActionRoute, actionRoute } from "./action-route.ts";
// Not buildApi (./app.ts): worker code imports this index, and only the API role may load fastify and the rest
// of ./app.ts (see `routes` in ./service.ts). Services get their API from the service definition.
export type { ApiDeps } from "./app.ts";
export {
  type AuthenticatedKey,
  digestToken,
  type KeyKind,
  type KeyOptions,
  type Principal,
  refuseKeyKind,
  TokenAuthenticator,
  tokenFromHeader,
} from "./auth.ts";
export { type Clock, systemClock } from "./clock.ts";
export { BaseConfig, ConfigError, loadConfig, trustedProxies } from "./config.ts";
export {
  type Created,
  type CrudDoc,
  type CrudResource,
  crudRoutes,
  type PageRoute,
  pageRoute,
} from "./crud.ts";
export {
  type Database,
  defineService,
  type RegisterRoutes,
  type RoutesModule,
  type ServiceConfig,
  type ServiceDefinition,
  type ServiceDeps,
  type ServiceParts,
} from "./definition.ts";
export {
  ApiError,
  badRequest,
  bodyTooLarge,
  conflict,
  type FieldProblem,
  found,
  isRecordNotFound,
  isUniqueViolation,
  notFound,
  RetryLaterError,
} from "./errors.ts";
export {
  forgetIdempotencyKeys,
  forgetOwnDeadLetters,
  forgetPlatformRecords,
  forgottenNeedles,
  jsonHoldsAny,
} from "./forget.ts";
export { canonicalJson, IDEMPOTENCY_TTL_MS, pruneIdempotencyKeys } from "./idempotency.ts";
export {
  decodeCursor,
  type KeysetList,
  keysetRows,
  listByCreatedAt,
  type Order,
  offsetCursors,
  readOrder,
  toKeysetPage,
} from "./keyset.ts";
export { runProcess, type Stop, type StopProgress, type Stopper, stopAll } from "./lifecycle.ts";
export { pruneTokenUsage, RateLimiter } from "./limits.ts";
export { createLogger, loggerOptions, redactQuery } from "./logger.ts";
export { operationIdOf } from "./openapi/document.ts";
export { routeError } from "./openapi/route.ts";
export { PATTERN_CANDIDATES, type RefResolver, type Schema, sample, typesOf } from "./openapi/sample.ts";
export {
  DEFAULT_PAGE_SIZE,
  externalUrl,
  type LinkRequest,
  linkBase,
  type Page,
  type PageParams,
  pageParams,
  pageSlice,
  toPage,
} from "./pagination.ts";
export { type Api, CALLBACK_BODY_LIMIT, errorResponses, requireAdmin } from "./routes.ts";
export {
  buildServiceApi,
  runService,
  startServiceWorker,
  type WorkerHttp,
  workerHttpPort,
} from "./service.ts";
export { cached, SCRAPE_CACHE_MS, scrapeGauge } from "./telemetry.ts";
export { startTracing, tracingConfigured } from "./tracing.ts";
export {
  isPublicAddress,
  type Lookup,
  type PostOptions,
  type PostResult,
  postGuarded,
  UrlNotAllowedError,
  UrlPolicy,
} from "./url-guard.ts";
