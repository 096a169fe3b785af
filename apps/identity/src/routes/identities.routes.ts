import {
  AddressesParams,
  AddressesQuery,
  AddressResult,
  CreateIdentityBody,
  DetailKeys,
  Identity,
  IdentityListQuery,
  IdentityPage,
  IdentitySearchQuery,
  IdParams,
  ListQuery,
  MessageCountBody,
  MessageCountResult,
  Paginated,
  PatchIdentityBody,
  ReplaceIdentityBody,
} from "@tidings/contracts";
import { type Api, errorResponses, pageParams, toPage } from "@tidings/service-kit";
import Type from "typebox";
import { messageCount } from "../services/delivery.ts";
import {
  addressesFor,
  createIdentity,
  deleteIdentity,
  getIdentity,
  listDetailKeys,
  listIdentities,
  parseSearch,
  searchIdentities,
  updateIdentity,
} from "../services/identities.ts";
import { respondList, searchPage } from "../services/paging.ts";
import { actorOf, type RouteDeps } from "./deps.ts";

export function identityRoutes(app: Api, { db, config }: RouteDeps): void {
  const options = { defaultCountry: config.DEFAULT_COUNTRY };

  app.post(
    "/api/v1/identities/",
    {
      schema: {
        tags: ["identities"],
        summary: "Create an identity",
        body: CreateIdentityBody,
        response: { 201: Identity, ...errorResponses },
      },
    },
    async (request, reply) => {
      const identity = await createIdentity(db, request.body, actorOf(request), options);
      return reply.code(201).header("location", `/api/v1/identities/${identity.id}/`).send(identity);
    },
  );

  app.get(
    "/api/v1/identities/",
    {
      schema: {
        tags: ["identities"],
        summary: "List identities, newest first (limit/offset with a count, or `cursor=` for keyset pages)",
        querystring: IdentityListQuery,
        response: { 200: IdentityPage, ...errorResponses },
      },
    },
    async (request) => {
      const page = pageParams(request.query);
      return respondList(request, await listIdentities(db, request.query, page), page);
    },
  );

  app.get(
    "/api/v1/identities/search/",
    {
      schema: {
        tags: ["identities"],
        summary:
          "Search: details__addresses__<type>=<address>, details__<key>=<value>, include_inactive; unknown filters are a 400",
        querystring: IdentitySearchQuery,
        response: { 200: IdentityPage, ...errorResponses },
      },
    },
    async (request) => {
      const query = request.query;
      const page = searchPage(query);
      const result = await searchIdentities(db, parseSearch(query, options), page, query.cursor);
      return respondList(request, result, page);
    },
  );

  app.post(
    "/api/v1/identities/message_count/",
    {
      schema: {
        tags: ["identities"],
        summary: "Seed receiver for the Message Sender delivery-report hook: counts consecutive failed sends",
        body: MessageCountBody,
        response: {
          200: MessageCountResult,
          ...errorResponses,
        },
      },
    },
    async (request) =>
      messageCount(
        db,
        request.body,
        config.MAX_CONSECUTIVE_SEND_FAILURES,
        actorOf(request),
        config.DEFAULT_COUNTRY,
      ),
  );

  app.get(
    "/api/v1/identities/:id/",
    {
      schema: {
        tags: ["identities"],
        summary: "Get one identity",
        params: IdParams,
        response: { 200: Identity, ...errorResponses },
      },
    },
    async (request) => getIdentity(db, request.params.id),
  );

  app.put(
    "/api/v1/identities/:id/",
    {
      schema: {
        tags: ["identities"],
        summary: "Update an identity (details required; replaces it whole)",
        params: IdParams,
        body: ReplaceIdentityBody,
        response: { 200: Identity, ...errorResponses },
      },
    },
    async (request) => updateIdentity(db, request.params.id, request.body, actorOf(request), options),
  );

  app.patch(
    "/api/v1/identities/:id/",
    {
      schema: {
        tags: ["identities"],
        summary: "Update some fields of an identity (`details` replaces the whole object, as in Seed)",
        params: IdParams,
        body: PatchIdentityBody,
        response: { 200: Identity, ...errorResponses },
      },
    },
    async (request) => updateIdentity(db, request.params.id, request.body, actorOf(request), options),
  );

  app.delete(
    "/api/v1/identities/:id/",
    {
      schema: {
        tags: ["identities"],
        summary: "Delete an identity",
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await deleteIdentity(db, request.params.id, actorOf(request));
      return reply.code(204).send(null);
    },
  );

  app.get(
    "/api/v1/identities/:id/addresses/:address_type",
    {
      schema: {
        tags: ["identities"],
        summary:
          "Usable addresses of one type (opted-out and inactive ones left out); flags `default`, `use_communicate_through`",
        params: AddressesParams,
        querystring: AddressesQuery,
        response: { 200: Paginated(AddressResult), ...errorResponses },
      },
    },
    async (request) => {
      const addresses = await addressesFor(db, request.params.id, request.params.address_type, {
        defaultOnly: request.query.default !== undefined,
        useCommunicateThrough: request.query.use_communicate_through !== undefined,
      });
      const page = pageParams(request.query);
      const results = addresses.slice(page.offset, page.offset + page.limit).map((address) => ({ address }));
      return toPage(request, page, addresses.length, results);
    },
  );

  app.get(
    "/api/v1/detailkeys/",
    {
      schema: {
        tags: ["identities"],
        summary: "Every top-level details key seen on an identity",
        querystring: ListQuery,
        response: { 200: DetailKeys, ...errorResponses },
      },
    },
    async () => ({ key_names: await listDetailKeys(db) }),
  );
}
