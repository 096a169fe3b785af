import {
  ConsentQuery,
  IdentityMessage,
  IdentityMessagesQuery,
  IdentityParams,
  IdParams,
  OutboundHistory,
  SenderConsent,
} from "@tidings/contracts";
import { type Api, errorResponses, externalUrl, pageRoute } from "@tidings/service-kit";
import Type from "typebox";
import { viewerOf, visibleOutbounds } from "../api-keys/visibility.ts";
import type { Db } from "../db.ts";
import { consentFor } from "../helpdesk/consent.ts";
import { outboundHistory } from "../helpdesk/history.ts";
import { personMessages } from "../helpdesk/person-messages.ts";
import { redactOutbound } from "../helpdesk/redact.ts";
import { linked } from "./links.ts";

const OUTBOUNDS = "/api/v1/outbound/";
const INBOUNDS = "/api/v1/inbound/";

/**
 * The helpdesk's tools: an outbound's status history, its redaction, a person's messages in one list, and what the
 * consent copy says of an address.
 */
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

  app.get(
    "/api/v1/consent/",
    {
      schema: {
        tags: ["consent"],
        operationId: "getSenderConsent",
        summary: "Whether sends to an address are refused: this service's copy of consent",
        description:
          "What every send to the address is checked against: `opted_out` (a send to it fails as `opted_out`), " +
          "and the last change recorded, its `kind` (`stop`, `stopall`, `forget`, `unsubscribe`; `optin` once " +
          "lifted) and `changed_at`; `opted_out: false`, `kind` and `changed_at` null when none was. The copy is " +
          "fed by identity's opt-outs and opt-ins, a STOP or START received here (from any number, one no identity " +
          "has too) and a provider's report that the recipient unsubscribed. `address`: a phone number (its `+` " +
          "may be left out) or an email, in any case, normalised as sends are (answered as normalised; otherwise " +
          "400 MESSAGE_SENDER_INVALID_ADDRESS). One address a call: the copy keeps only hashes, and nothing lists " +
          "it. A `team` key may ask only about its allow-list's addresses (403 " +
          "MESSAGE_SENDER_RECIPIENT_NOT_ALLOWED for any other), a `test` key not at all (403 KEY_KIND_NOT_ALLOWED).",
        querystring: ConsentQuery,
        response: { 200: SenderConsent, ...errorResponses },
      },
    },
    (request) => consentFor(db, request.query.address, request.principal),
  );
}
