import type { SqlExecutor } from "@tidings/amqp";
import { hookEventsOf, type Service, toSeedTime } from "@tidings/contracts";
import {
  type Api,
  ApiError,
  errorResponses,
  pageParams,
  requireAdmin,
  routeError,
  toPage,
} from "@tidings/service-kit";
import Type, { type Static, type TSchema } from "typebox";
import {
  apiUserExists,
  type DeliveryRow,
  deleteHook,
  findHook,
  type HookRow,
  insertHook,
  listDeliveries,
  listHooks,
  redeliver,
  redeliverFailed,
  rotateSecret,
  updateHook,
} from "./store.ts";

export interface HookRoutesOptions {
  db: SqlExecutor;
  /**
   * The service: it offers the hook events the catalog gives it (any other is refused), and its error codes
   * are `<SERVICE>_HOOK_...`.
   */
  service: Service;
}

const iso = (v: Date | string | null) => (v === null ? null : toSeedTime(new Date(v)));

export const HookSchema = Type.Object({
  id: Type.Integer(),
  event: Type.String(),
  target: Type.String(),
  owner: Type.Union([Type.Integer(), Type.Null()]),
  /** Until then deliveries are signed with the secret from before the last rotation too. */
  previous_secret_expires_at: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export type HookOut = Static<typeof HookSchema>;

export const CreatedHookSchema = Type.Object({
  ...HookSchema.properties,
  /** The key of this hook's Standard Webhooks signatures (`whsec_<base64>`); shown only here. */
  secret: Type.String(),
});

export const DeliverySchema = Type.Object({
  /** Sent as `webhook-id`, the same on every attempt and redelivery: receivers de-duplicate on it. */
  id: Type.String(),
  hook: Type.Integer(),
  event: Type.String(),
  status: Type.String(),
  attempts: Type.Integer(),
  next_attempt_at: Type.String(),
  last_error: Type.Union([Type.String(), Type.Null()]),
  last_status_code: Type.Union([Type.Integer(), Type.Null()]),
  created_at: Type.String(),
  delivered_at: Type.Union([Type.String(), Type.Null()]),
});

const toHook = (row: HookRow): HookOut => ({
  id: row.id,
  event: row.event,
  target: row.target,
  owner: row.owner_id,
  previous_secret_expires_at: iso(row.previous_secret_expires_at),
  created_at: iso(row.created_at) as string,
  updated_at: iso(row.updated_at) as string,
});

const toDelivery = (row: DeliveryRow) => ({
  id: row.id,
  hook: row.hook_id,
  event: row.event,
  status: row.status,
  attempts: row.attempts,
  next_attempt_at: iso(row.next_attempt_at) as string,
  last_error: row.last_error,
  last_status_code: row.last_status_code,
  created_at: iso(row.created_at) as string,
  delivered_at: iso(row.delivered_at),
});

const Page = <T extends TSchema>(item: T) =>
  Type.Object({
    count: Type.Integer(),
    next: Type.Union([Type.String(), Type.Null()]),
    previous: Type.Union([Type.String(), Type.Null()]),
    results: Type.Array(item),
  });

const Target = Type.String({ format: "uri", pattern: "^https?://", maxLength: 2000 });
const HookId = Type.Integer({ minimum: 1, maximum: 2147483647 });
const HookIdParams = Type.Object({ id: HookId });
/** An API user's id (`tidings_api_user`). */
const OwnerId = Type.Integer({ minimum: 1, maximum: 2147483647 });
const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647 })),
});

/**
 * Seed's `/api/v1/webhook/` (django-rest-hooks): create, list, get, update and delete hooks `{event, target}`,
 * owned by the calling API user or, given `owner`, by that API user (the admin token sees every hook); rotate a
 * hook's secret; list deliveries (`?status=failed` for the failures, `?hook=<id>`, `?event=<name>`) and redeliver
 * one or every failed one.
 * Creating and changing a hook is for admins only: a hook makes the service POST to any URL from inside the
 * network (SSRF), so only an admin (the ADMIN_TOKEN or an API user with `is_admin`) chooses targets. Other
 * users may list and delete theirs.
 */
export function registerHookRoutes(app: Api, options: HookRoutesOptions): void {
  const { db, service } = options;
  const events = hookEventsOf(service);
  const codePrefix = service.toUpperCase().replaceAll("-", "_"); // MESSAGE_SENDER_HOOK_...
  const Event = Type.String({ minLength: 1, maxLength: 100 });
  const ownerOf = (request: { principal: { userId: number | null; isAdmin: boolean } }) =>
    request.principal.isAdmin ? undefined : request.principal.userId;
  const notFound = (id: number) => new ApiError(404, `${codePrefix}_HOOK_NOT_FOUND`, `Hook ${id} not found`);
  const checkEvent = (event: string | undefined) => {
    if (event !== undefined && !(events as string[]).includes(event)) {
      throw new ApiError(400, `${codePrefix}_HOOK_UNKNOWN_EVENT`, `Unknown event ${event}`, [
        { field: "body.event", message: `must be one of ${events.join(", ")}` },
      ]);
    }
  };
  const tags = ["webhooks"];

  app.post(
    "/api/v1/webhook/",
    {
      schema: {
        tags,
        summary:
          "Register a hook: deliveries of `event` are POSTed to `target`. Admin only; `owner` (an API user id) " +
          "creates it on that user's behalf, so it receives the events of that user's actions.",
        description:
          "Deliveries are signed (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` with the hook's secret, answered once here) and retried with backoff until the target answers 2xx. Only admins create hooks: a hook makes the service POST to a URL from inside the network.",
        body: Type.Object(
          { event: Event, target: Target, owner: Type.Optional(OwnerId) },
          { additionalProperties: false },
        ),
        response: { 201: CreatedHookSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      checkEvent(request.body.event);
      const { owner } = request.body;
      if (owner !== undefined && !(await apiUserExists(db, owner))) {
        throw new ApiError(400, `${codePrefix}_HOOK_UNKNOWN_OWNER`, `No API user ${owner}`, [
          { field: "body.owner", message: "must be the id of an API user" },
        ]);
      }
      const row = await insertHook(
        db,
        request.body.event,
        request.body.target,
        owner ?? request.principal.userId,
      );
      return reply.code(201).send({ ...toHook(row), secret: row.secret });
    },
  );

  app.get(
    "/api/v1/webhook/",
    {
      schema: {
        tags,
        summary: "List hooks",
        description: "The calling API user's hooks (every hook for the admin token); never their secrets.",
        querystring: ListQuery,
        response: { 200: Page(HookSchema), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageParams(request.query);
      const { count, rows } = await listHooks(db, ownerOf(request), page);
      return toPage(request, page, count, rows.map(toHook));
    },
  );

  app.get(
    "/api/v1/webhook/deliveries/",
    {
      schema: {
        tags,
        summary:
          "Hook deliveries, newest first; `status=failed` lists the failures; filter by `hook` and `event`",
        description:
          "Each delivery of an event to a hook, with its status (pending, delivered, failed), attempts, last response status and error; filter by `status`, `hook` and `event` to find what a target missed.",
        querystring: Type.Object({
          ...ListQuery.properties,
          status: Type.Optional(
            Type.Union([Type.Literal("pending"), Type.Literal("delivered"), Type.Literal("failed")]),
          ),
          hook: Type.Optional(HookId),
          event: Type.Optional(Event),
        }),
        response: { 200: Page(DeliverySchema), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageParams(request.query);
      const { count, rows } = await listDeliveries(db, ownerOf(request), request.query, page);
      return toPage(request, page, count, rows.map(toDelivery));
    },
  );

  app.post(
    "/api/v1/webhook/deliveries/redeliver/",
    {
      schema: {
        tags,
        summary:
          "Redeliver every failed delivery (of one `hook` or `event`, if given), with fresh attempts. Admin only.",
        description:
          "Every failed delivery (of the given `hook` or `event` only, when given) is queued again with its original `webhook-id` and body and a fresh set of attempts; answers how many were queued.",
        body: Type.Object(
          { hook: Type.Optional(HookId), event: Type.Optional(Event) },
          { additionalProperties: false },
        ),
        response: { 202: Type.Object({ redelivered: Type.Integer() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const redelivered = await redeliverFailed(db, ownerOf(request), request.body ?? {});
      return reply.code(202).send({ redelivered });
    },
  );

  app.post(
    "/api/v1/webhook/deliveries/:id/redeliver/",
    {
      schema: {
        tags,
        summary:
          "Redeliver a delivery (same `webhook-id` and body) with fresh attempts. Admin only. 409 while it is pending.",
        description:
          "Queues the delivery again with its original `webhook-id` and body (receivers can deduplicate on it) and a fresh set of attempts.",
        params: Type.Object({ id: Type.String({ format: "uuid" }) }),
        response: {
          202: DeliverySchema,
          ...errorResponses,
          409: routeError(`${codePrefix}_HOOK_DELIVERY_PENDING: the delivery is still being tried.`),
        },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      const row = await redeliver(db, request.params.id, ownerOf(request));
      if (!row) {
        throw new ApiError(
          404,
          `${codePrefix}_HOOK_DELIVERY_NOT_FOUND`,
          `Delivery ${request.params.id} not found`,
        );
      }
      if (row === "pending") {
        throw new ApiError(
          409,
          `${codePrefix}_HOOK_DELIVERY_PENDING`,
          `Delivery ${request.params.id} is still being tried`,
        );
      }
      return reply.code(202).send(toDelivery(row));
    },
  );

  app.post(
    "/api/v1/webhook/:id/rotate-secret/",
    {
      schema: {
        tags,
        summary:
          "Give a hook a new secret; for `overlap_seconds` (default a day) deliveries are signed with the old one too. Admin only.",
        description:
          "Answers the new secret once. Until `overlap_seconds` have passed, each delivery carries a signature with the old secret too, so a receiver can switch without missing any.",
        params: HookIdParams,
        body: Type.Object(
          {
            overlap_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_592_000, default: 86_400 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: CreatedHookSchema, ...errorResponses },
      },
    },
    async (request) => {
      requireAdmin(request);
      const overlap = request.body?.overlap_seconds ?? 86_400;
      const row = await rotateSecret(db, request.params.id, ownerOf(request), overlap);
      if (!row) {
        throw notFound(request.params.id);
      }
      return { ...toHook(row), secret: row.secret };
    },
  );

  app.get(
    "/api/v1/webhook/:id/",
    {
      schema: {
        tags,
        summary: "Get a hook",
        description: "One hook of the calling API user (any for the admin token); never its secret.",
        params: HookIdParams,
        response: { 200: HookSchema, ...errorResponses },
      },
    },
    async (request) => {
      const row = await findHook(db, request.params.id, ownerOf(request));
      if (!row) {
        throw notFound(request.params.id);
      }
      return toHook(row);
    },
  );

  const change = async (
    request: Parameters<typeof requireAdmin>[0] & {
      params: { id: number };
      body: { event?: string; target?: string };
    },
  ) => {
    requireAdmin(request);
    checkEvent(request.body.event);
    const row = await updateHook(db, request.params.id, ownerOf(request), request.body);
    if (!row) {
      throw notFound(request.params.id);
    }
    return toHook(row);
  };

  app.put(
    "/api/v1/webhook/:id/",
    {
      schema: {
        tags,
        summary: "Replace a hook's event and target. Admin only.",
        description:
          "Both `event` and `target` are given; later deliveries go to the new target, deliveries already made keep theirs.",
        params: HookIdParams,
        body: Type.Object({ event: Event, target: Target }, { additionalProperties: false }),
        response: { 200: HookSchema, ...errorResponses },
      },
    },
    change,
  );

  app.patch(
    "/api/v1/webhook/:id/",
    {
      schema: {
        tags,
        summary: "Change a hook's event or target. Admin only.",
        description: "Changes the fields given; later deliveries go to the new target.",
        params: HookIdParams,
        body: Type.Object(
          { event: Type.Optional(Event), target: Type.Optional(Target) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: HookSchema, ...errorResponses },
      },
    },
    change,
  );

  app.delete(
    "/api/v1/webhook/:id/",
    {
      schema: {
        tags,
        summary: "Delete a hook",
        description: "No further events are delivered to it; users delete their own hooks, admins any.",
        params: HookIdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      if (!(await deleteHook(db, request.params.id, ownerOf(request)))) {
        throw notFound(request.params.id);
      }
      return reply.code(204).send(null);
    },
  );
}
