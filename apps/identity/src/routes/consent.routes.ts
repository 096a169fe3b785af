import {
  ConsentEntry,
  CreateOptInBody,
  CreateOptOutBody,
  CursorPaginated,
  IdParams,
  ListQuery,
  OptIn,
  OptOut,
  OptOutSearchQuery,
  Paginated,
} from "@tidings/contracts";
import { type Api, errorResponses, pageParams, toPage } from "@tidings/service-kit";
import Type from "typebox";
import type { IdentityConfig } from "../config.ts";
import type { Db } from "../db.ts";
import { consentLedger, createOptIn, createOptOut, searchOptOuts } from "../services/consent.ts";
import { cursorLink } from "../services/paging.ts";

export function consentRoutes(app: Api, db: Db, config: IdentityConfig): void {
  const options = { defaultCountry: config.DEFAULT_COUNTRY };
  const actorOf = (request: { principal: { userId: number | null }; id: string }) => ({
    userId: request.principal.userId,
    correlationId: request.id,
  });

  app.post(
    "/api/v1/optout/",
    {
      schema: {
        tags: ["consent"],
        summary: "Record an opt-out (stop, stopall, unsubscribe, forget) and apply it",
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
        querystring: OptOutSearchQuery,
        response: { 200: Type.Union([Paginated(OptOut), CursorPaginated(OptOut)]), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageParams(request.query);
      const result = await searchOptOuts(db, request.query, page, options);
      if (result.kind === "cursor") {
        return { next: cursorLink(request, result.next), previous: null, results: result.results };
      }
      return toPage(request, page, result.count, result.results);
    },
  );

  app.get(
    "/api/v1/identities/:id/consent/",
    {
      schema: {
        tags: ["consent"],
        summary: "The identity's consent ledger (every opt-out and opt-in), oldest first",
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
