import {
  CreateSubscriptionBody,
  IdParams,
  Paginated,
  ResendAccepted,
  ScheduleSendAccepted,
  ScheduleSendParams,
  SendAccepted,
  Subscription,
  SubscriptionCalendar,
  SubscriptionListQuery,
  SubscriptionRequestAccepted,
  SubscriptionRequestBody,
  UpdateSubscriptionBody,
} from "@tidings/contracts";
import { type Api, errorResponses, pageParams, toPage } from "@tidings/service-kit";
import Type from "typebox";
import { subscriptionCalendar } from "../services/calendar.ts";
import { requestScheduleSend, requestSubscriptionSend } from "../services/fan-out.ts";
import { resendLast } from "../services/resend.ts";
import {
  createSubscription,
  deleteSubscription,
  getSubscription,
  listSubscriptions,
  updateSubscription,
} from "../services/subscriptions.ts";
import { actorOf, type RouteDeps } from "./deps.ts";

const tags = ["subscriptions"];

export function subscriptionRoutes(app: Api, { db, config }: RouteDeps): void {
  app.post(
    "/api/v1/subscriptions/",
    {
      schema: {
        tags,
        summary:
          "Subscribe an identity to a message set: 201, or 200 with its active subscription to that set, unchanged",
        body: CreateSubscriptionBody,
        response: { 201: Subscription, 200: Subscription, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { subscription, created } = await createSubscription(db, request.body, actorOf(request));
      return reply
        .code(created ? 201 : 200)
        .header("location", `/api/v1/subscriptions/${subscription.id}/`)
        .send(subscription);
    },
  );

  app.post(
    "/api/v1/subscriptions/request",
    {
      schema: {
        tags,
        summary:
          "Seed hub webhook (subscriptionrequest.added): 201 with the new subscription's id, or with the identity's active one to that set",
        body: SubscriptionRequestBody,
        response: { 201: SubscriptionRequestAccepted, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id, ...data } = request.body.data;
      const { subscription } = await createSubscription(db, data, actorOf(request), id);
      return reply.code(201).send({ accepted: true, id: subscription.id });
    },
  );

  app.get(
    "/api/v1/subscriptions/",
    {
      schema: {
        tags,
        summary: "List subscriptions, newest first",
        querystring: SubscriptionListQuery,
        response: { 200: Paginated(Subscription), ...errorResponses },
      },
    },
    async (request) => {
      const page = pageParams(request.query);
      const { count, results } = await listSubscriptions(db, request.query, page);
      return toPage(request, page, count, results);
    },
  );

  app.get(
    "/api/v1/subscriptions/:id/",
    { schema: { tags, params: IdParams, response: { 200: Subscription, ...errorResponses } } },
    async (request) => getSubscription(db, request.params.id),
  );

  // PATCH and Seed's PUT change the same way; PUT's body is a whole subscription.
  const update = async (request: {
    params: { id: string };
    body: Parameters<typeof updateSubscription>[2];
    principal: { userId: number | null };
    id: string;
  }) => updateSubscription(db, request.params.id, request.body, actorOf(request));

  app.patch(
    "/api/v1/subscriptions/:id/",
    {
      schema: {
        tags,
        summary: "Change a subscription (deactivate it, move it to another set, schedule or language)",
        params: IdParams,
        body: UpdateSubscriptionBody,
        response: { 200: Subscription, ...errorResponses },
      },
    },
    update,
  );

  app.put(
    "/api/v1/subscriptions/:id/",
    {
      schema: {
        tags,
        summary: "Replace a subscription (Seed's PUT: the fields a create needs, and any others to change)",
        params: IdParams,
        body: CreateSubscriptionBody,
        response: { 200: Subscription, ...errorResponses },
      },
    },
    update,
  );

  app.delete(
    "/api/v1/subscriptions/:id/",
    {
      schema: {
        tags,
        summary: "Delete a subscription (as Seed did; PATCH active=false stops one and keeps it)",
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await deleteSubscription(db, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    "/api/v1/subscriptions/:id/calendar/",
    {
      schema: {
        tags,
        summary: "Preview the send dates of the rest of the subscription's message set",
        params: IdParams,
        response: {
          200: SubscriptionCalendar,
          ...errorResponses,
        },
      },
    },
    async (request) => subscriptionCalendar(db, request.params.id, new Date(), config.FALLBACK_LANGUAGE),
  );

  app.post(
    "/api/v1/subscriptions/:id/resend",
    {
      schema: {
        tags,
        summary: "Send the last message again, without advancing (Seed resend)",
        params: IdParams,
        response: {
          202: ResendAccepted,
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const sent = await resendLast(db, request.params.id, {
        fallbackLanguage: config.FALLBACK_LANGUAGE,
        correlationId: request.id,
      });
      return reply.code(202).send({ accepted: true, ...sent });
    },
  );

  app.post(
    "/api/v1/subscriptions/:id/send",
    {
      schema: {
        tags,
        summary:
          "Seed's legacy send: the subscription is sent its next message once (skipped when it is not ready)",
        params: IdParams,
        response: { 201: SendAccepted, ...errorResponses },
      },
    },
    async (request, reply) => {
      await requestSubscriptionSend(db, request.params.id, request.id);
      return reply.code(201).send({ accepted: true });
    },
  );

  app.post(
    "/api/v1/schedule/:id/send/",
    {
      schema: {
        tags,
        summary: "Seed send trigger: send every ready subscription on this content schedule its next message",
        params: ScheduleSendParams,
        response: { 202: ScheduleSendAccepted, ...errorResponses },
      },
    },
    async (request, reply) => {
      await requestScheduleSend(db, request.params.id, request.id);
      return reply.code(202).send({});
    },
  );
}
