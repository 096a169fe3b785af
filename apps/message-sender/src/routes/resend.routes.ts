import { ResendBody, ResendResult } from "@tidings/contracts";
import { type Api, errorResponses } from "@tidings/service-kit";
import { viewerOf } from "../api-keys/visibility.ts";
import type { Db } from "../db.ts";
import { resendOutbounds } from "../resend/resend.ts";

export function resendRoutes(app: Api, db: Db): void {
  app.post(
    "/api/v1/outbound/resend/",
    {
      schema: {
        tags: ["outbound"],
        summary:
          "Send failed or expired outbounds again, by ids or by a filter, as new attempts of the same outbounds (admin, or the key that created them)",
        body: ResendBody,
        response: { 202: ResendResult, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.code(202).send(await resendOutbounds(db, request.body, viewerOf(request), request.id)),
  );
}
