import { IntIdParams } from "@tidings/contracts";
import { type Api, crudRoutes, type PageParams, routeError } from "@tidings/service-kit";
import type { Static, TSchema } from "typebox";
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
 * Content's resources in service-kit's CRUD style (`crudRoutes`), documented alike; lists are in id order.
 * PUT replaces: the body is a whole resource (the create schema, whose defaults fastify fills in), and any
 * nullable field it leaves out becomes null rather than keeping its old value.
 */
export function resourceRoutes<
  Item extends TSchema,
  Create extends TSchema,
  Update extends TSchema,
  Query extends TSchema,
>(app: Api, resource: Resource<Item, Create, Update, Query>): void {
  const { path, name, schemas } = resource;
  const cleared = Object.fromEntries(
    Object.entries((schemas.update as { properties?: Record<string, TSchema> }).properties ?? {})
      .filter(([, field]) =>
        ((field as { anyOf?: { type?: string }[] }).anyOf ?? []).some((b) => b.type === "null"),
      )
      .map(([key]) => [key, null]),
  );
  crudRoutes(app, {
    path,
    tags: [name],
    params: IntIdParams,
    item: schemas.item,
    create: {
      summary: `Create a ${name}`,
      description: `Stores the ${name} and answers it with its id; the change is published to the other services (subscription, scheduler, message-sender keep copies of what they use).`,
      body: schemas.create,
      run: async (body, request) => {
        const item = await resource.create(body as Static<Create>, contextOf(request));
        return { item, location: item.id };
      },
    },
    list: {
      summary: `List ${name}s in id order`,
      description: `Seed's paginated list (limit/offset with count, next and previous links), filterable by the fields Seed filtered on.`,
      query: schemas.query,
      run: (query, page) => resource.list(query as Static<Query>, page),
    },
    get: {
      summary: `Get one ${name}`,
      description: `The ${name} by its id, as Seed answered it.`,
      run: (id) => resource.get(id),
    },
    update: {
      summary: `Change some fields of a ${name}`,
      description: `Changes only the fields given and publishes the change to the services that keep a copy.`,
      body: schemas.update,
      run: (id, body, request) => resource.update(id, body as Static<Update>, contextOf(request)),
    },
    replace: {
      summary: `Replace a ${name} (Seed's PUT)`,
      description: `Seed's PUT: the body is a whole ${name}, fields left out take their defaults or null; the change is published to the services that keep a copy.`,
      body: schemas.create,
      run: (id, body, request) =>
        resource.update(id, { ...cleared, ...(body as object) } as Static<Update>, contextOf(request)),
    },
    remove: {
      summary: `Delete a ${name}`,
      description: `Deletes the ${name} and publishes its deletion to the services that keep a copy.`,
      responses: resource.deleteConflict ? { 409: routeError(resource.deleteConflict) } : {},
      run: (id, request) => resource.remove(id, contextOf(request)),
    },
  });
}
