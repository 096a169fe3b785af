import {
  ConsentEntry,
  CreateOptInBody,
  CreateOptOutBody,
  IdParams,
  ListQuery,
  OptIn,
  OptOut,
  OptOutPage,
  OptOutSearchQuery,
  Paginated,
} from "@tidings/contracts";
import { type Api, errorResponses, pageParams, toPage } from "@tidings/service-kit";
import { createOptIn, createOptOut } from "../services/consent.ts";
import { consentLedger, searchOptOuts } from "../services/consent-queries.ts";
import { respondList } from "../services/paging.ts";
import { actorOf, type RouteDeps } from "./deps.ts";

export function consentRoutes(app: Api, { db, config }: RouteDeps): void {
  const options = { defaultCountry: config.DEFAULT_COUNTRY };

  app.post(
    "/api/v1/optout/",
    {
      schema: {
        tags: ["consent"],
        summary: "Record an opt-out (stop, stopall, unsubscribe, forget) and apply it",
        description:
          "`optout_type` stop (that address), stopall (every address), unsubscribe (recorded for subscribers to act on, with `topic`) or forget (the person's details and addresses are redacted everywhere). Without `identity`, the address finds it. The change, its consent-ledger entry and its `optout.created` event are written in one transaction; every service acts on the event.",
        body: CreateOptOutBody,
        response: { 201: OptOut, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await createOptOut(db, request.body, actorOf(request), options)),
  );

  app.post(
    "/api/v1/optin/",
    {
      schema: {
        tags: ["consent"],
        summary: "Record an opt-in: the address may be contacted again",
        description:
          "Sets `optedout: false` on the address (it must be one of the identity's, else 400 IDENTITY_ADDRESS_NOT_ON_IDENTITY), records it in the consent ledger and publishes it, so the other services may contact the address again.",
        body: CreateOptInBody,
        response: { 201: OptIn, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await createOptIn(db, request.body, actorOf(request), options)),
  );

  app.get(
    "/api/v1/optouts/search/",
    {
      schema: {
        tags: ["consent"],
        summary: "Opt-outs by field, newest first; unknown fields are a 400",
        description:
          "Equality filters `identity`, `optout_type`, `address_type`, `address` (normalised with `address_type`), `request_source`, `requestor_source_id`, `reason`, plus `created_from`/`created_to`. Pages with `limit`/`offset` or `cursor`.",
        querystring: OptOutSearchQuery,
        response: { 200: OptOutPage, ...errorResponses },
      },
    },
    async (request) => {
      const page = pageParams(request.query);
      const result = await searchOptOuts(db, request.query, page, options);
      return respondList(request, result, page);
    },
  );

  app.get(
    "/api/v1/identities/:id/consent/",
    {
      schema: {
        tags: ["consent"],
        summary: "The identity's consent ledger (every opt-out and opt-in), oldest first",
        description:
          "Every opt-out and opt-in of the identity, oldest first: `{action (optout|optin), kind, scope (address|all|topic), channel, address, topic, source, source_id, reason, created_at, created_by}`; what was forgotten shows as `redacted`.",
        params: IdParams,
        querystring: ListQuery,
        response: { 200: Paginated(ConsentEntry), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageParams(request.query);
      const { count, results } = await consentLedger(db, request.params.id, page);
      return toPage(request, page, count, results);
    },
  );
}
