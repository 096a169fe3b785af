import {
  BehindSubscription,
  BehindSubscriptionQuery,
  EstimatedSends,
  EstimateQuery,
  FastForwardBody,
  FastForwarded,
  MessageSetPolicy,
  MessageSetPolicyBody,
  MessageSetPolicyParams,
  Paginated,
} from "@tidings/contracts";
import { type Api, errorResponses, pageParams, requireAdmin, toPage } from "@tidings/service-kit";
import { fastForward, findBehind } from "../services/behind.ts";
import { estimateSends } from "../services/estimates.ts";
import { getPolicy, setPolicy } from "../services/policies.ts";
import type { RouteDeps } from "./deps.ts";

const tags = ["catch-up"];

/**
 * Catch-up and repair, admin only (Seed guarded behind subscriptions with permissions): per-set catch-up
 * policies, the behind subscriptions and their fast-forward, and daily send estimates.
 */
export function catchUpRoutes(app: Api, { db, config }: RouteDeps): void {
  app.get(
    "/api/v1/messagesets/:id/policy/",
    {
      schema: {
        tags,
        summary: "A message set's catch-up policy (the defaults when it has none of its own)",
        description:
          "`{catch_up, max_per_day, sending_window, configured}`: how subscriptions of the set that fall behind are caught up; `configured: false` when the set uses the defaults. Admin only.",
        params: MessageSetPolicyParams,
        response: { 200: MessageSetPolicy, ...errorResponses },
      },
    },
    async (request) => {
      requireAdmin(request);
      return getPolicy(db, request.params.id);
    },
  );

  app.put(
    "/api/v1/messagesets/:id/policy/",
    {
      schema: {
        tags,
        summary:
          "Set a message set's catch-up policy: send_all (at most max_per_day a day), skip_to_current, latest_only",
        description:
          "send_all sends every missed message (at most `max_per_day` a day), skip_to_current jumps to the message due now, latest_only sends only the latest missed one; `sending_window` limits the hours. Admin only.",
        params: MessageSetPolicyParams,
        body: MessageSetPolicyBody,
        response: { 200: MessageSetPolicy, ...errorResponses },
      },
    },
    async (request) => {
      requireAdmin(request);
      return setPolicy(db, request.params.id, request.body);
    },
  );

  app.get(
    "/api/v1/behind-subscriptions/",
    {
      schema: {
        tags,
        summary:
          "Ready subscriptions whose schedule has passed their next message (Seed's behind subscriptions)",
        description:
          "Seed's behind subscriptions: `{subscription, identity, messages_behind, current_messageset, current_sequence_number, expected_messageset, expected_sequence_number}`, filtered by `messageset`, paginated. Admin only.",
        querystring: BehindSubscriptionQuery,
        response: { 200: Paginated(BehindSubscription), ...errorResponses },
      },
    },
    async (request) => {
      requireAdmin(request);
      const behind = await findBehind(db, new Date(), config.FALLBACK_LANGUAGE, {
        messageset: request.query.messageset,
      });
      const page = pageParams(request.query);
      const results = behind.slice(page.offset, page.offset + page.limit).map((b) => b.report);
      return toPage(request, page, behind.length, results);
    },
  );

  app.post(
    "/api/v1/behind-subscriptions/fast-forward/",
    {
      schema: {
        tags,
        summary:
          "Move behind subscriptions (all, one set's, or the listed ones) to their expected position, sending nothing",
        description:
          "`{messageset?, subscriptions?}` (neither: every behind subscription): each moves to the position its schedule expects without being sent the messages it skips; answers how many moved. Admin only.",
        body: FastForwardBody,
        response: { 200: FastForwarded, ...errorResponses },
      },
    },
    async (request) => {
      requireAdmin(request);
      const moved = await fastForward(db, new Date(), {
        fallbackLanguage: config.FALLBACK_LANGUAGE,
        messageset: request.body.messageset,
        ids: request.body.subscriptions,
        log: request.log,
        correlationId: request.id,
      });
      return { fast_forwarded: moved.length, subscriptions: moved };
    },
  );

  app.get(
    "/api/v1/estimates/",
    {
      schema: {
        tags,
        summary: "Daily send estimate per message set (Seed's EstimatedSend) for a date",
        description:
          "Seed's EstimatedSend for `date`: per message set, how many subscriptions and identities are due and how many sends that makes.",
        querystring: EstimateQuery,
        response: { 200: EstimatedSends, ...errorResponses },
      },
    },
    async (request) => ({ results: await estimateSends(db, request.query.date) }),
  );
}
