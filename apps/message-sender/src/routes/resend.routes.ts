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
        summary: "Send failed or expired outbounds again, as new attempts of the same outbounds",
        description:
          "`{ids: [...]}` or `{filter: {status?, channel?, to_identity?, created_at__gte?, created_at__lt?}}`, and `expires_at?`. Admin keys resend any outbound, other keys those their user created. Each outbound moves back to `queued` as another attempt (its id, history and attempts kept) and is sent again through the usual checks: consent, sending windows, expiry. 202 with an outcome per outbound (`resent`, `not_found`, `not_resendable`, `opted_out`, `no_address`, `sensitive`) and their counts; a filter takes the oldest 1,000 it matches (`truncated`).",
        body: ResendBody,
        response: { 202: ResendResult, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.code(202).send(await resendOutbounds(db, request.body, viewerOf(request), request.id)),
  );
}
