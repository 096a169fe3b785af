import { IntIdParams, type ListQuery, Paginated } from "@tidings/contracts";
import {
  type Api,
  errorResponses,
  type PageParams,
  pageParams,
  routeError,
  toPage,
} from "@tidings/service-kit";
import Type, { type Static, type TSchema } from "typebox";
import type { Listed, RequestContext } from "../services/support.ts";

/** A Seed-style REST resource: its path, schemas and use cases. */
export interface Resource<
  Item extends TSchema,
  Create extends TSchema,
  Update extends TSchema,
  Query extends TSchema,
> {
  /** The collection's path, e.g. `/api/v1/schedule/`; trailing slashes are optional. */
  path: string;
  /** Names the resource in the docs: "schedule", "message set". */
  name: string;
  schemas: { item: Item; create: Create; update: Update; query: Query };
  create(body: Static<Create>, context: RequestContext): Promise<Static<Item> & { id: number }>;
  list(query: Static<Query>, page: PageParams): Promise<Listed<Static<Item>>>;
  get(id: number): Promise<Static<Item>>;
  update(id: number, body: Static<Update>, context: RequestContext): Promise<Static<Item>>;
  remove(id: number, context: RequestContext): Promise<void>;
  /** Why a delete can be refused (409), for the docs; absent, it cannot. */
  deleteConflict?: string;
}

/** The request id correlates the events a request causes. */
const contextOf = (request: { id: string }): RequestContext => ({ correlationId: request.id });

/**
 * POST and GET on the collection; GET, PUT, PATCH and DELETE on `<path><id>/`. Lists are in id order.
 * Fastify validates bodies and queries against the schemas (and responses on the way out), so each input is
 * the `Static` of its schema; the casts below only say so, as the type provider cannot see through generics.
 */
export function resourceRoutes<
  Item extends TSchema,
  Create extends TSchema,
  Update extends TSchema,
  Query extends TSchema,
>(app: Api, resource: Resource<Item, Create, Update, Query>): void {
  const { path, name } = resource;
  const schemas: Record<keyof Resource<Item, Create, Update, Query>["schemas"], TSchema> = resource.schemas;
  const one = `${path}:id/`;
  const tags = [name];

  app.post(
    path,
    {
      schema: {
        tags,
        summary: `Create a ${name}`,
        description: `Stores the ${name} and answers it with its id; the change is published to the other services (subscription, scheduler, message-sender keep copies of what they use).`,
        body: schemas.create,
        response: { 201: schemas.item, ...errorResponses },
      },
    },
    async (request, reply) => {
      const created = await resource.create(request.body as Static<Create>, contextOf(request));
      return reply.code(201).header("location", `${path}${created.id}/`).send(created);
    },
  );

  app.get(
    path,
    {
      schema: {
        tags,
        summary: `List ${name}s in id order`,
        description: `Seed's paginated list (limit/offset with count, next and previous links), filterable by the fields Seed filtered on.`,
        querystring: schemas.query,
        response: { 200: Paginated(schemas.item), ...errorResponses },
      },
    },
    async (request) => {
      const query = request.query as Static<Query> & ListQuery;
      const page = pageParams(query);
      const { count, results } = await resource.list(query, page);
      return toPage(request, page, count, results);
    },
  );

  app.get(
    one,
    {
      schema: {
        tags,
        summary: `Get one ${name}`,
        description: `The ${name} by its id, as Seed answered it.`,
        params: IntIdParams,
        response: { 200: schemas.item, ...errorResponses },
      },
    },
    async (request) => resource.get(request.params.id),
  );

  app.patch(
    one,
    {
      schema: {
        tags,
        summary: `Change some fields of a ${name}`,
        description: `Changes only the fields given and publishes the change to the services that keep a copy.`,
        params: IntIdParams,
        body: schemas.update,
        response: { 200: schemas.item, ...errorResponses },
      },
    },
    async (request) => resource.update(request.params.id, request.body as Static<Update>, contextOf(request)),
  );

  // PUT replaces: the body is a whole resource (the create schema, whose defaults fastify fills in), and
  // any nullable field it leaves out becomes null rather than keeping its old value.
  const cleared = Object.fromEntries(
    Object.entries((schemas.update as { properties?: Record<string, TSchema> }).properties ?? {})
      .filter(([, field]) =>
        ((field as { anyOf?: { type?: string }[] }).anyOf ?? []).some((b) => b.type === "null"),
      )
      .map(([key]) => [key, null]),
  );
  app.put(
    one,
    {
      schema: {
        tags,
        summary: `Replace a ${name} (Seed's PUT)`,
        description: `Seed's PUT: the body is a whole ${name}, fields left out take their defaults or null; the change is published to the services that keep a copy.`,
        params: IntIdParams,
        body: schemas.create,
        response: { 200: schemas.item, ...errorResponses },
      },
    },
    async (request) =>
      resource.update(
        request.params.id,
        { ...cleared, ...(request.body as object) } as Static<Update>,
        contextOf(request),
      ),
  );

  app.delete(
    one,
    {
      schema: {
        tags,
        summary: `Delete a ${name}`,
        description: `Deletes the ${name} and publishes its deletion to the services that keep a copy.`,
        params: IntIdParams,
        response: {
          204: Type.Null({ description: "Deleted" }),
          ...errorResponses,
          ...(resource.deleteConflict ? { 409: routeError(resource.deleteConflict) } : {}),
        },
      },
    },
    async (request, reply) => {
      await resource.remove(request.params.id, contextOf(request));
      return reply.code(204).send(null);
    },
  );
}
