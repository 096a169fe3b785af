import {
  IdentityMessage,
  IdentityMessagesQuery,
  IdentityParams,
  IdParams,
  OutboundHistory,
} from "@tidings/contracts";
import { type Api, errorResponses, externalUrl, pageRoute } from "@tidings/service-kit";
import Type from "typebox";
import { viewerOf, visibleOutbounds } from "../api-keys/visibility.ts";
import type { Db } from "../db.ts";
import { outboundHistory } from "../helpdesk/history.ts";
import { personMessages } from "../helpdesk/person-messages.ts";
import { redactOutbound } from "../helpdesk/redact.ts";
import { linked } from "./links.ts";

const OUTBOUNDS = "/api/v1/outbound/";
const INBOUNDS = "/api/v1/inbound/";

/** The helpdesk's tools: an outbound's status history, its redaction, and a person's messages in one list. */
export function helpdeskRoutes(app: Api, { db }: { db: Db }): void {
  app.get(
    "/api/v1/outbound/:id/history/",
    {
      schema: {
        tags: ["outbound"],
        operationId: "getOutboundHistory",
        summary: "An outbound's status history",
        description:
          "Every status change of the outbound, oldest first: when, the status, the channel, the provider's id, " +
          "the worker and the reason. 404 when the key does not see the outbound (as GET /api/v1/outbound/{id}/).",
        params: IdParams,
        response: { 200: OutboundHistory, ...errorResponses },
      },
    },
    async (request) => {
      const history = await outboundHistory(db, request.params.id, visibleOutbounds(viewerOf(request)));
      return { outbound: externalUrl(request, `${OUTBOUNDS}${history.id}/`), ...history };
    },
  );

  app.delete(
    "/api/v1/outbound/:id/",
    {
      schema: {
        tags: ["outbound"],
        operationId: "deleteOutbound",
        summary: "Redact an outbound (a tombstone stays)",
        description:
          "Clears the outbound's address, content and metadata and keeps its row as a tombstone (`redacted: true`, " +
          "status, channel, attempts and times kept), so counts and aggregates stay right. A queued or deferred " +
          "outbound is cancelled first (reason `redacted`) and never sent. Admin, or the user whose key created it " +
          "(403 for another key that sees it, 404 for one that does not); 409 while a worker is sending it. " +
          "Idempotent: 204 again for a redacted outbound.",
        params: IdParams,
        response: { 204: Type.Null({ description: "Redacted" }), ...errorResponses },
      },
    },
    async (request, reply) => {
      await redactOutbound(db, request.params.id, viewerOf(request));
      return reply.code(204).send(null);
    },
  );

  pageRoute(app, "/api/v1/identities/:identity_id/messages/", {
    tags: ["outbound"],
    operationId: "listIdentityMessages",
    summary: "A person's messages, both ways, newest first",
    description:
      "The outbounds to the identity (from any subscription, topic or send; with their status, `last_error` " +
      "and metadata) and the inbounds from it, merged newest first, each marked `direction`; Seed's pagination. " +
      "A test or team key sees only its outbounds and the replies to them.",
    params: IdentityParams,
    query: IdentityMessagesQuery,
    item: IdentityMessage,
    run: async (request, page) => {
      const viewer = viewerOf(request);
      const { count, results } = await personMessages(
        db,
        request.params.identity_id,
        request.query,
        page,
        viewer,
      );
      return {
        count,
        results: results.map((m) => linked(request, m.direction === "outbound" ? OUTBOUNDS : INBOUNDS, m)),
      };
    },
  });
}
