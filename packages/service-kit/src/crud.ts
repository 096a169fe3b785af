/**
 * One style for a Seed-style REST resource: POST and GET on the collection; GET, PATCH, PUT and DELETE on
 * `<path>:id/`, each with its own summary and description. Lists are Seed's limit/offset pages. Fastify validates
 * bodies, queries and params against the schemas (and responses on the way out), so each input is the `Static` of
 * its schema; the casts below only say so, as the type provider cannot see through generics.
 */
import { ListQuery, Paginated } from "@tidings/contracts";
import type { FastifyRequest } from "fastify";
import Type, { type Static, type TSchema } from "typebox";
import { type KeysetList, toKeysetPage } from "./keyset.ts";
import { type PageParams, pageParams, toPage } from "./pagination.ts";
import { type Api, errorResponses } from "./routes.ts";

/** What the docs say of one operation, and what it answers besides its success and the usual errors. */
export interface CrudDoc {
  summary: string;
  description: string;
  /** E.g. a `409: routeError(...)`, or a second success status. */
  responses?: Record<number, TSchema>;
}

/** A new resource: what is answered, the id its `Location` names, and 200 for one that already existed. */
export interface Created {
  item: unknown;
  location: string | number;
  status?: 200 | 201;
}

/** A list answered as Seed's page (`count`, `next`, `previous`, `results`) by default. */
type ListOperation<Query extends TSchema> = CrudDoc & { query: Query } & (
    | { run(query: Static<Query>, page: PageParams): Promise<{ count: number; results: unknown[] }> }
    | {
        /** The list's own page schema, answered as `answer` builds it. */
        page: TSchema;
        answer(query: Static<Query>, page: PageParams, request: FastifyRequest): Promise<unknown>;
      }
  );

type IdOf<Params extends TSchema> = Static<Params> extends { id: infer Id } ? Id : never;

type Change<Params extends TSchema, Body extends TSchema> = CrudDoc & {
  body: Body;
  run(id: IdOf<Params>, body: Static<Body>, request: FastifyRequest): Promise<unknown>;
};

export interface CrudResource<
  Params extends TSchema,
  Create extends TSchema,
  Update extends TSchema,
  Replace extends TSchema,
  Query extends TSchema,
> {
  /** The collection's path with its trailing slash, e.g. `/api/v1/schedule/`. */
  path: string;
  tags: string[];
  /** The item's path parameters (`{id}`). */
  params: Params;
  /** The item's schema. */
  item: TSchema;
  /** Checked before the body is validated on every write (create, change, delete), e.g. admin keys only. */
  guardWrites?: (request: FastifyRequest) => Promise<void>;
  create?: CrudDoc & { body: Create; run(body: Static<Create>, request: FastifyRequest): Promise<Created> };
  list?: ListOperation<Query>;
  get?: CrudDoc & { run(id: IdOf<Params>, request: FastifyRequest): Promise<unknown> };
  update?: Change<Params, Update>;
  /** Seed's PUT; absent, the resource has none. */
  replace?: Change<Params, Replace>;
  remove?: CrudDoc & { run(id: IdOf<Params>, request: FastifyRequest): Promise<void> };
}

/** A GET answering a page of `item`s (Seed's `count`, `next`, `previous`, `results`): a list beside a resource's own. */
export interface PageRoute<Params extends TSchema, Query extends TSchema> {
  tags: string[];
  operationId?: string;
  summary: string;
  description: string;
  params?: Params;
  /** `limit`/`offset` and any filters; `ListQuery` when absent. */
  query?: Query;
  item: TSchema;
  /** The page: counted rows (offset links), or a keyset list (cursor links: see `listByCreatedAt`). */
  run(
    request: FastifyRequest<{ Params: Static<Params>; Querystring: Static<Query> }>,
    page: PageParams,
  ): Promise<{ count: number; results: unknown[] } | (KeysetList<unknown> & { count: number })>;
}

/** Registers a GET of `path` answering a page of what `route.run` lists. */
export function pageRoute<Params extends TSchema, Query extends TSchema = typeof ListQuery>(
  app: Api,
  path: string,
  route: PageRoute<Params, Query>,
): void {
  const { tags, operationId, summary, description, params, query, item } = route;
  app.get(
    path,
    {
      schema: {
        tags,
        ...(operationId ? { operationId } : {}),
        summary,
        description,
        ...(params ? { params } : {}),
        querystring: query ?? ListQuery,
        response: { 200: Paginated(item), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageParams(request.query as { limit?: number; offset?: number });
      const listed = await route.run(request as never, page);
      return "next" in listed
        ? toKeysetPage(request, page, listed)
        : toPage(request, page, listed.count, listed.results);
    },
  );
}

/** Registers the operations the resource has. */
export function crudRoutes<
  Params extends TSchema,
  Create extends TSchema,
  Update extends TSchema,
  Replace extends TSchema,
  Query extends TSchema,
>(app: Api, resource: CrudResource<Params, Create, Update, Replace, Query>): void {
  const { path, tags, params, item, guardWrites, create, list, get, update, replace, remove } = resource;
  const one = `${path}:id/`;
  const write = guardWrites ? { preValidation: guardWrites } : {};
  const docs = ({ summary, description }: CrudDoc) => ({ tags, summary, description });
  /** An operation answering the item: its docs, the item's params (but on the collection), its body if any. */
  const itemSchema = (doc: CrudDoc & { body?: TSchema }, status: 200 | 201, onItem: boolean) => ({
    ...docs(doc),
    ...(onItem ? { params } : {}),
    ...(doc.body ? { body: doc.body } : {}),
    // Keyed by a variable status, which the type provider cannot see: the handlers answer the item's `Static`.
    response: { [status]: item, ...errorResponses, ...doc.responses } as Record<number, TSchema>,
  });
  const idOf = (request: FastifyRequest) => (request.params as { id: IdOf<Params> }).id;

  if (create) {
    app.post(path, { ...write, schema: itemSchema(create, 201, false) }, async (request, reply) => {
      const { item: created, location, status } = await create.run(request.body as Static<Create>, request);
      // A 200 is declared by the resource (`responses`), which the type provider cannot see.
      return reply
        .code((status ?? 201) as 201)
        .header("location", `${path}${location}/`)
        .send(created);
    });
  }

  if (list) {
    app.get(
      path,
      {
        schema: {
          ...docs(list),
          querystring: list.query,
          response: { 200: "page" in list ? list.page : Paginated(item), ...errorResponses },
        },
      },
      async (request) => {
        const query = request.query as Static<Query> & { limit?: number; offset?: number };
        const page = pageParams(query);
        if ("answer" in list) {
          return list.answer(query, page, request);
        }
        const { count, results } = await list.run(query, page);
        return toPage(request, page, count, results);
      },
    );
  }

  if (get) {
    app.get(one, { schema: itemSchema(get, 200, true) }, async (request) => get.run(idOf(request), request));
  }

  for (const [method, change] of [
    ["PATCH", update],
    ["PUT", replace],
  ] as const) {
    if (change) {
      app.route({
        method,
        url: one,
        ...write,
        schema: itemSchema(change, 200, true),
        handler: async (request) => change.run(idOf(request), request.body as never, request),
      });
    }
  }

  if (remove) {
    app.delete(
      one,
      {
        ...write,
        schema: {
          ...docs(remove),
          params,
          response: { 204: Type.Null({ description: "Deleted" }), ...errorResponses, ...remove.responses },
        },
      },
      async (request, reply) => {
        await remove.run(idOf(request), request);
        return reply.code(204).send(null);
      },
    );
  }
}
