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
import {
  type Api,
  actionRoute,
  errorResponses,
  pageParams,
  toKeysetPage,
  toPage,
} from "@tidings/service-kit";
import type { Static, TSchema } from "typebox";
import type { Db } from "../db.ts";
import { createOptIn, createOptOut } from "../services/consent.ts";
import { consentLedger, searchOptOuts } from "../services/consent-queries.ts";
import type { Actor, IdentityOptions } from "../services/identities.ts";
import { actorOf, type RouteDeps } from "./deps.ts";

export function consentRoutes(app: Api, { db, config }: RouteDeps): void {
  const options = { defaultCountry: config.DEFAULT_COUNTRY };

  /** POST `url`: records a consent change (`create`) and answers 201 with it. */
  const recordRoute = <Body extends TSchema, Out extends TSchema>(
    url: string,
    doc: { summary: string; description: string; body: Body; answer: Out },
    create: (db: Db, input: Static<Body>, actor: Actor, options: IdentityOptions) => Promise<Static<Out>>,
  ) =>
    actionRoute(app, url, {
      tags: ["consent"],
      ...doc,
      status: 201,
      run: (request) => create(db, request.body as Static<Body>, actorOf(request), options),
    });

  recordRoute(
    "/api/v1/optout/",
    {
      summary: "Record an opt-out (stop, stopall, unsubscribe, forget) and apply it",
      description:
        "`optout_type` stop (that address), stopall (every address), unsubscribe (recorded for subscribers to act on, with `topic`) or forget (the person's details and addresses are redacted everywhere). Without `identity`, the address finds it. A forget may name an identity deleted since that its consent ledger knows: the addresses the ledger and its opt-outs and opt-ins still hold are redacted, and the forget (an opt-out with `identity: null` and a ledger entry under the id) is published with them. The change, its consent-ledger entry and its `optout.created` event are written in one transaction; every service acts on the event.",
      body: CreateOptOutBody,
      answer: OptOut,
    },
    createOptOut,
  );

  recordRoute(
    "/api/v1/optin/",
    {
      summary: "Record an opt-in: the address may be contacted again",
      description:
        "Sets `optedout: false` on the address (it must be one of the identity's, else 400 IDENTITY_ADDRESS_NOT_ON_IDENTITY), records it in the consent ledger and publishes it, so the other services may contact the address again.",
      body: CreateOptInBody,
      answer: OptIn,
    },
    createOptIn,
  );

  app.get(
    "/api/v1/optouts/search/",
    {
      schema: {
        tags: ["consent"],
        summary: "Opt-outs by field, newest first; unknown fields are a 400",
        description:
          "Equality filters `identity`, `optout_type`, `address_type`, `address` (normalised with `address_type`), `request_source`, `requestor_source_id`, `reason`, plus `created_from`/`created_to`. `limit`/`offset` pages carry a `count`; `next` and `previous` carry a `cursor` (the row they continue from), whose pages (`cursor=` is the first) have none.",
        querystring: OptOutSearchQuery,
        response: { 200: OptOutPage, ...errorResponses },
      },
    },
    async (request) => {
      const page = pageParams(request.query);
      const result = await searchOptOuts(db, request.query, page, options);
      return toKeysetPage(request, page, result);
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
