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
import { type Api, crudRoutes, errorResponses, pageParams, toKeysetPage, toPage } from "@tidings/service-kit";
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
import { searchPage } from "../services/paging.ts";
import { actorOf, type RouteDeps } from "./deps.ts";

export function identityRoutes(app: Api, { db, config }: RouteDeps): void {
  const options = { defaultCountry: config.DEFAULT_COUNTRY };
  const tags = ["identities"];

  const update = (id: string, body: PatchIdentityBody, request: Parameters<typeof actorOf>[0]) =>
    updateIdentity(db, id, body, actorOf(request), options);

  crudRoutes(app, {
    path: "/api/v1/identities/",
    tags,
    params: IdParams,
    item: Identity,
    create: {
      summary: "Create an identity",
      description:
        "`details.addresses` is required: `{<type>: {<address>: {default?, optedout?, inactive?, verified?}}}`; msisdn addresses are normalised to E.164. Answers 201 with the identity and a `Location` header, and publishes `identity.created`. `communicate_through` and `operator` must name existing identities (else 400 IDENTITY_REFERENCE_NOT_FOUND).",
      body: CreateIdentityBody,
      run: async (body, request) => {
        const item = await createIdentity(db, body, actorOf(request), options);
        return { item, location: item.id };
      },
    },
    list: {
      summary: "List identities, newest first (limit/offset with a count, or `cursor=` for keyset pages)",
      description:
        "Filters `created_from`, `created_to`, `updated_from`, `updated_to`, `communicate_through`, `operator`, `created_by`, `updated_by`. `limit`/`offset` pages carry a `count`; `next` and `previous` carry a `cursor` (the row they continue from, so a page keeps its place while identities change), whose pages `{next, previous, results}` have none: `cursor=` is the first, for lists too large to count.",
      query: IdentityListQuery,
      page: IdentityPage,
      answer: async (query, page, request) =>
        toKeysetPage(request, page, await listIdentities(db, query, page)),
    },
    get: {
      summary: "Get one identity",
      description:
        "The identity with its details, addresses and audit fields; 404 IDENTITY_NOT_FOUND for an unknown id.",
      run: (id) => getIdentity(db, id),
    },
    replace: {
      summary: "Update an identity (details required; replaces it whole)",
      description:
        "Replaces the identity's `details` (required) and any other field given; sets `updated_by` and publishes `identity.updated`. The stored `optedout` and `verified` flags of addresses that stay are kept: change them through the opt-out, opt-in and verification routes.",
      body: ReplaceIdentityBody,
      run: update,
    },
    update: {
      summary: "Update some fields of an identity (`details` replaces the whole object, as in Seed)",
      description:
        "Changes any of `version`, `details`, `communicate_through`, `operator`. The row is locked while it changes, so an opt-out or verification running at the same time is not lost, and an update built from a stale read cannot undo an opt-out (`optedout`/`verified` keep their stored values). Publishes `identity.updated`.",
      body: PatchIdentityBody,
      run: update,
    },
    remove: {
      summary: "Delete an identity",
      description:
        "Answers 204 and publishes `identity.deleted`; its opt-outs and opt-ins keep their rows with `identity: null`, the consent ledger its entries under the id. A delete is not a forget: to forget the person too, POST /api/v1/optout/ `{optout_type: forget, identity}`, before or after.",
      run: (id, request) => deleteIdentity(db, id, actorOf(request)),
    },
  });

  app.get(
    "/api/v1/identities/search/",
    {
      schema: {
        tags,
        summary:
          "Search: details__addresses__<type>=<address>, details__<key>=<value>, details__has_key=<key>, include_inactive; unknown filters are a 400",
        description:
          "`details__addresses__<type>=<address>` finds the identities holding that address (normalised as stored), `details__<key>[__<key>]=<value>` compares a details value as a string, `details__has_key=<key>` (or `details__<key>[__<key>]__has_key=<key>`) finds the identities whose details (or the object at that path) have that key, `include_inactive=false` drops identities whose searched address is inactive. Pages as the list. Another Django lookup (`__icontains`, `__in`, `__gt`, ...) is a 400 IDENTITY_UNSUPPORTED_LOOKUP; any other parameter is a 400 IDENTITY_UNKNOWN_FILTER.",
        querystring: IdentitySearchQuery,
        response: { 200: IdentityPage, ...errorResponses },
      },
    },
    async (request) => {
      const query = request.query;
      const page = searchPage(query);
      const result = await searchIdentities(db, parseSearch(query, options), page, query.cursor);
      return toKeysetPage(request, page, result);
    },
  );

  app.post(
    "/api/v1/identities/message_count/",
    {
      schema: {
        tags,
        summary: "Seed receiver for the Message Sender delivery-report hook: counts consecutive failed sends",
        description:
          "Seed's delivery-report hook receiver: `{hook?, data: {identity? | to_addr?, delivered}}`. A failed delivery adds one to the identity's consecutive-failure count, a delivered one resets it; answers `{identity, failed_message_count}`.",
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
    "/api/v1/identities/:id/addresses/:address_type",
    {
      schema: {
        tags,
        summary:
          "Usable addresses of one type (opted-out and inactive ones left out); flags `default`, `use_communicate_through`",
        description:
          "`{count, next, previous, results: [{address}]}` of the identity's addresses of that type, opted-out and inactive ones left out. `default` (present) keeps only the default one (or the only one); `use_communicate_through` answers the addresses of the identity this one communicates through (one level).",
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
        tags,
        summary: "Every top-level details key seen on an identity",
        description:
          "`{key_names}`: every top-level key of `details` found on any identity, for building search forms.",
        querystring: ListQuery,
        response: { 200: DetailKeys, ...errorResponses },
      },
    },
    async () => ({ key_names: await listDetailKeys(db) }),
  );
}
