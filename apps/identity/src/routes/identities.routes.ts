import { CreateIdentityBody, Identity, IdentityListQuery, IdParams, Paginated } from "@tidings/contracts";
import { type Api, errorResponses, notFound, pageParams, toPage } from "@tidings/service-kit";
import type { Db } from "../db.ts";
import { createIdentity, getIdentity, listIdentities } from "../services/identities.ts";

export function identityRoutes(app: Api, db: Db, publicUrl?: string): void {
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
      const identity = await createIdentity(db, request.body, {
        userId: request.principal.userId,
        correlationId: request.id,
      });
      return reply.code(201).header("location", `/api/v1/identities/${identity.id}/`).send(identity);
    },
  );

  app.get(
    "/api/v1/identities/",
    {
      schema: {
        tags: ["identities"],
        summary: "List identities, newest first",
        querystring: IdentityListQuery,
        response: { 200: Paginated(Identity), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageParams(request.query);
      const { count, results } = await listIdentities(db, request.query, page);
      return toPage(request, page, count, results, publicUrl);
    },
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
    async (request) => {
      const identity = await getIdentity(db, request.params.id);
      if (!identity) {
        throw notFound("IDENTITY_NOT_FOUND", `Identity ${request.params.id} not found`);
      }
      return identity;
    },
  );
}
