import {
  CreateSubscriptionBody,
  IdParams,
  Paginated,
  ReplaceSubscriptionBody,
  ResendAccepted,
  ScheduleSendAccepted,
  ScheduleSendParams,
  SendAccepted,
  type Subscription,
  SubscriptionCalendar,
  SubscriptionListQuery,
  SubscriptionRequestAccepted,
  SubscriptionRequestBody,
  SubscriptionResponse,
  UpdateSubscriptionBody,
} from "@tidings/contracts";
import {
  type Api,
  actionRoute,
  crudRoutes,
  errorResponses,
  externalUrl,
  toKeysetPage,
} from "@tidings/service-kit";
import type { FastifyRequest } from "fastify";
import { subscriptionCalendar } from "../services/calendar.ts";
import { requestScheduleSend } from "../services/fan-out.ts";
import { retireLegacySchedule } from "../services/legacy-send.ts";
import { resendLast } from "../services/resend.ts";
import {
  createSubscription,
  deleteSubscription,
  getSubscription,
  listSubscriptions,
  updateSubscription,
  withSeedFields,
} from "../services/subscriptions.ts";
import { actorOf, type RouteDeps } from "./deps.ts";

const tags = ["subscriptions"];
const SUBSCRIPTIONS = "/api/v1/subscriptions/";

export function subscriptionRoutes(app: Api, { db, config, clock }: RouteDeps): void {
  const scheduler = { url: config.SCHEDULER_URL, token: config.SCHEDULER_TOKEN ?? config.ADMIN_TOKEN };
  /** Subscriptions as answered: each with its `url` (as the client reaches this API) and `messageset_label`. */
  const answer = (request: FastifyRequest, subscriptions: Subscription[]) =>
    withSeedFields(db, (id) => externalUrl(request, `${SUBSCRIPTIONS}${id}/`), subscriptions);
  const answerOne = async (request: FastifyRequest, subscription: Subscription) =>
    (await answer(request, [subscription]))[0];
  // PATCH and Seed's PUT change the same way; PUT's body is a whole subscription.
  const update = async (
    id: string,
    body: Parameters<typeof updateSubscription>[2],
    request: FastifyRequest,
  ) => answerOne(request, await updateSubscription(db, id, body, actorOf(request)));

  crudRoutes(app, {
    path: SUBSCRIPTIONS,
    tags,
    params: IdParams,
    item: SubscriptionResponse,
    create: {
      summary: "Subscribe an identity to a message set",
      description:
        "`{identity, messageset, lang, schedule, next_sequence_number?, metadata?, ...}`: the subscription starts at `next_sequence_number` (default 1) and is sent the set's messages in its `lang` at each slot of `schedule`. The message set and schedule must be known from content's events, else 400 SUBSCRIPTION_UNKNOWN_CONTENT; one newer than any the service knows is waited for up to 2 s first (content made it a moment ago and its event is on its way). An identity has one active subscription per message set: 201 with the new subscription, or 200 with the identity's active subscription to that set, unchanged (a retried registration makes no second one). Publishes `subscription.created` when it creates one.",
      body: CreateSubscriptionBody,
      responses: { 200: SubscriptionResponse },
      run: async (body, request) => {
        const { subscription, created } = await createSubscription(db, body, actorOf(request));
        return {
          item: await answerOne(request, subscription),
          location: subscription.id,
          status: created ? 201 : 200,
        };
      },
    },
    list: {
      summary: "List subscriptions, newest first",
      description:
        "Exact filters on Seed's fields `id`, `identity`, `version`, `active`, `completed`, `messageset`, `lang`, `schedule`, `process_status`, `next_sequence_number`, `initial_sequence_number`, `created_at`, `updated_at`, `created_by`, `updated_by`; and `created_after`, `created_before`, `messageset_contains`, `metadata_has_key`, `metadata_not_has_key`; `limit`/`offset` pages with a count, whose `next` and `previous` carry a `cursor` (the row they continue from): a hub that deactivates what it pages through (`?active=True`) still reaches every subscription. Any other parameter is 400.",
      query: SubscriptionListQuery,
      page: Paginated(SubscriptionResponse),
      answer: async (query, page, request) => {
        const listed = await listSubscriptions(db, query, page);
        return toKeysetPage(request, page, { ...listed, results: await answer(request, listed.results) });
      },
    },
    get: {
      summary: "Get one subscription",
      description:
        "The subscription with its position (`next_sequence_number`), state (`active`, `completed`, `process_status`) and metadata; 404 for an unknown id.",
      run: async (id, request) => answerOne(request, await getSubscription(db, id)),
    },
    update: {
      summary: "Change a subscription (deactivate it, move it to another set, schedule or language)",
      description:
        "Changes any field given (deactivate it with `active: false`, move it to another set, schedule, language or identity, or set its position) and publishes `subscription.updated`. The read-only `id`, `url`, `messageset_label`, `created_at` and `updated_at` are ignored, as Seed did: a hub may send back the whole subscription it read. 409 SUBSCRIPTION_ALREADY_ACTIVE when the change would make a second active subscription of the identity to the set.",
      body: UpdateSubscriptionBody,
      run: update,
    },
    replace: {
      summary: "Replace a subscription (Seed's PUT: the fields a create needs, and any others to change)",
      description:
        "Seed's PUT: `identity`, `messageset`, `lang` and `schedule` are required, any other field given changes (the read-only `id`, `url`, `messageset_label`, `created_at` and `updated_at` are ignored, so a subscription read can be sent back); publishes `subscription.updated`.",
      body: ReplaceSubscriptionBody,
      run: update,
    },
    remove: {
      summary: "Delete a subscription (as Seed did; PATCH active=false stops one and keeps it)",
      description:
        "Seed's DELETE: removes the subscription (204, no event). To stop one and keep its history, PATCH `active: false`.",
      run: (id) => deleteSubscription(db, id),
    },
  });

  actionRoute(app, "/api/v1/subscriptions/request", {
    tags,
    summary:
      "Seed hub webhook (subscriptionrequest.added): 201 with the new subscription's id, or with the identity's active one to that set",
    description:
      "Seed's `subscriptionrequest.added` hook receiver `{hook?, data: {...}}`: `data.id` names the request, so the same request delivered twice makes one subscription, and an identity already on that set keeps its active subscription; 201 `{accepted, id}`.",
    body: SubscriptionRequestBody,
    status: 201,
    answer: SubscriptionRequestAccepted,
    run: async (request) => {
      const { id, ...data } = request.body.data;
      const { subscription } = await createSubscription(db, data, actorOf(request), id);
      return { accepted: true, id: subscription.id };
    },
  });

  app.get(
    "/api/v1/subscriptions/:id/calendar/",
    {
      schema: {
        tags,
        summary: "Preview the send dates of the rest of the subscription's message set",
        description:
          "The dates on which each remaining message of the subscription's set would be sent, from its schedule and its set's catch-up policy; nothing is sent.",
        params: IdParams,
        response: { 200: SubscriptionCalendar, ...errorResponses },
      },
    },
    async (request) => subscriptionCalendar(db, request.params.id, new Date(), config.FALLBACK_LANGUAGE),
  );

  actionRoute(app, "/api/v1/subscriptions/:id/resend", {
    tags,
    summary: "Send the last message again, without advancing (Seed resend)",
    description:
      "Seed's resend: the message the subscription was last sent is sent again (202) and its position does not change.",
    params: IdParams,
    status: 202,
    answer: ResendAccepted,
    run: async (request) => ({
      accepted: true,
      ...(await resendLast(db, request.params.id, {
        fallbackLanguage: config.FALLBACK_LANGUAGE,
        correlationId: request.id,
      })),
    }),
  });

  actionRoute(app, "/api/v1/subscriptions/:id/send", {
    tags,
    summary:
      "Seed's legacy send: sends nothing, and disables the subscription's old per-subscription schedule",
    description:
      "What Seed's scheduler called at each slot of a subscription's own schedule before Seed 0.10, answered as Seed 0.10 and later do: nothing is sent (the subscription's content schedule sends to it), and the schedule named by its `metadata.scheduler_schedule_id` is disabled at the scheduler (`PATCH {enabled: false}`, with SCHEDULER_TOKEN or ADMIN_TOKEN), so it stops calling, when that schedule's endpoint is this subscription's own send URL (any other is left alone); 201 `{accepted: true}`. 400 SUBSCRIPTION_NOT_FOUND for an unknown one.",
    params: IdParams,
    status: 201,
    answer: SendAccepted,
    run: async (request) => {
      await retireLegacySchedule(db, request.params.id, scheduler, request.log);
      return { accepted: true };
    },
  });

  actionRoute(app, "/api/v1/schedule/:id/send/", {
    tags,
    summary: "Seed send trigger: send every ready subscription on this content schedule its next message",
    description:
      "Seed's trigger for a content schedule (what a migrated Seed scheduler schedule calls): the schedule's latest cron slot at or before now for every ready subscription on it, each sent its next message once per slot and advanced (fan-out by the workers), so calling it again in the same slot sends nothing more; 202 `{}`, and nothing is sent when content saved the schedule after that slot. 404 for an unknown schedule.",
    params: ScheduleSendParams,
    status: 202,
    answer: ScheduleSendAccepted,
    run: async (request) => {
      await requestScheduleSend(db, request.params.id, clock(), request.log, request.id);
      return {};
    },
  });
}
