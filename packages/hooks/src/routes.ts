import type { SqlExecutor } from "@tidings/amqp";
import { type Api, ApiError, errorResponses, pageParams, requireAdmin, toPage } from "@tidings/service-kit";
import Type, { type Static, type TSchema } from "typebox";
import {
  type DeliveryRow,
  deleteHook,
  findHook,
  type HookRow,
  insertHook,
  listDeliveries,
  listHooks,
  updateHook,
} from "./store.ts";

export interface HookRoutesOptions {
  db: SqlExecutor;
  /** The events this service offers; any other is refused. */
  events: readonly string[];
  /** Error codes are `<codePrefix>_HOOK_...` (e.g. `IDENTITY`). */
  codePrefix: string;
}

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());

export const HookSchema = Type.Object({
  id: Type.Integer(),
  event: Type.String(),
  target: Type.String(),
  owner: Type.Union([Type.Integer(), Type.Null()]),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export type HookOut = Static<typeof HookSchema>;

export const CreatedHookSchema = Type.Object({
  ...HookSchema.properties,
  /** The HMAC-SHA256 key of this hook's signatures; shown only here. */
  secret: Type.String(),
});

export const DeliverySchema = Type.Object({
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
const HookIdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) });
const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647 })),
});

/**
 * Seed's `/api/v1/webhook/` (django-rest-hooks): create, list, get, update and delete hooks `{event, target}`,
 * owned by the calling API user (the admin token sees every hook), and `GET /api/v1/webhook/deliveries/`
 * to see deliveries (`?status=failed` for the failures, `?hook=<id>`). Creating and changing a hook is for
 * admins only: a hook makes the service POST to any URL from inside the network (SSRF), so only an admin
 * (the ADMIN_TOKEN or an API user with `is_admin`) chooses targets. Other users may list and delete theirs.
 */
export function registerHookRoutes(app: Api, options: HookRoutesOptions): void {
  const { db, events, codePrefix } = options;
  const Event = Type.String({ minLength: 1, maxLength: 100 });
  const ownerOf = (request: { principal: { userId: number | null; isAdmin: boolean } }) =>
    request.principal.isAdmin ? undefined : request.principal.userId;
  const notFound = (id: number) => new ApiError(404, `${codePrefix}_HOOK_NOT_FOUND`, `Hook ${id} not found`);
  const checkEvent = (event: string | undefined) => {
    if (event !== undefined && !events.includes(event)) {
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
        summary: "Register a hook: deliveries of `event` are POSTed to `target`. Admin only.",
        body: Type.Object({ event: Event, target: Target }, { additionalProperties: false }),
        response: { 201: CreatedHookSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      checkEvent(request.body.event);
      const row = await insertHook(db, request.body.event, request.body.target, request.principal.userId);
      return reply.code(201).send({ ...toHook(row), secret: row.secret });
    },
  );

  app.get(
    "/api/v1/webhook/",
    {
      schema: {
        tags,
        summary: "List hooks",
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
        summary: "Hook deliveries, newest first; `status=failed` lists the failures",
        querystring: Type.Object({
          ...ListQuery.properties,
          status: Type.Optional(
            Type.Union([Type.Literal("pending"), Type.Literal("delivered"), Type.Literal("failed")]),
          ),
          hook: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
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

  app.get(
    "/api/v1/webhook/:id/",
    {
      schema: {
        tags,
        summary: "Get a hook",
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
