import { enqueue } from "@tidings/amqp";
import {
  CreateSubscriptionBody,
  IdParams,
  Paginated,
  ScheduleSendParams,
  Subscription,
  SubscriptionListQuery,
  SubscriptionRequestBody,
  UpdateSubscriptionBody,
} from "@tidings/contracts";
import { type Api, errorResponses, notFound, pageParams, toPage } from "@tidings/service-kit";
import Type from "typebox";
import type { Db } from "../db.ts";
import { subscriptionCalendar } from "../services/calendar.ts";
import { resendLast } from "../services/resend.ts";
import {
  createSubscription,
  deleteSubscription,
  getSubscription,
  listSubscriptions,
  updateSubscription,
} from "../services/subscriptions.ts";

const tags = ["subscriptions"];

const notFoundError = (id: string) => notFound("SUBSCRIPTION_NOT_FOUND", `Subscription ${id} not found`);

export function subscriptionRoutes(
  app: Api,
  db: Db,
  config: { PUBLIC_URL?: string; FALLBACK_LANGUAGE: string },
): void {
  app.post(
    "/api/v1/subscriptions/",
    {
      schema: {
        tags,
        summary: "Subscribe an identity to a message set",
        body: CreateSubscriptionBody,
        response: { 201: Subscription, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { subscription } = await createSubscription(db, request.body, {
        userId: request.principal.userId,
        correlationId: request.id,
      });
      return reply
        .code(201)
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
          "Seed hub webhook (subscriptionrequest.added): the same request twice makes one subscription",
        body: SubscriptionRequestBody,
        response: { 201: Type.Object({ accepted: Type.Boolean(), id: Type.String() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id, ...data } = request.body.data;
      const { subscription } = await createSubscription(
        db,
        data,
        { userId: request.principal.userId, correlationId: request.id },
        id,
      );
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
    async (request) => {
      const subscription = await getSubscription(db, request.params.id);
      if (!subscription) {
        throw notFoundError(request.params.id);
      }
      return subscription;
    },
  );

  // PATCH and Seed's PUT change the same way; PUT's body is a whole subscription.
  const update = async (request: {
    params: { id: string };
    body: Parameters<typeof updateSubscription>[2];
    principal: { userId: number | null };
    id: string;
  }) =>
    (await updateSubscription(db, request.params.id, request.body, {
      userId: request.principal.userId,
      correlationId: request.id,
    })) ?? Promise.reject(notFoundError(request.params.id));

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
      if (!(await deleteSubscription(db, request.params.id))) {
        throw notFoundError(request.params.id);
      }
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
          200: Type.Object({
            subscription: Type.String(),
            schedule: Type.Integer(),
            timezone: Type.String(),
            catch_up: Type.Union([Type.String(), Type.Null()]),
            sends: Type.Array(
              Type.Object({ sequence_number: Type.Integer(), at: Type.String({ format: "date-time" }) }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) =>
      (await subscriptionCalendar(db, request.params.id, new Date(), config.FALLBACK_LANGUAGE)) ??
      Promise.reject(notFoundError(request.params.id)),
  );

  app.post(
    "/api/v1/subscriptions/:id/resend",
    {
      schema: {
        tags,
        summary: "Send the last message again, without advancing (Seed resend)",
        params: IdParams,
        response: {
          202: Type.Object({
            accepted: Type.Boolean(),
            outbound: Type.String(),
            sequence_number: Type.Integer(),
          }),
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
    "/api/v1/schedule/:id/send/",
    {
      schema: {
        tags,
        summary: "Seed send trigger: send every ready subscription on this content schedule its next message",
        params: ScheduleSendParams,
        response: { 202: Type.Object({}), ...errorResponses },
      },
    },
    async (request, reply) => {
      const known = await db.scheduleCopy.findFirst({ where: { id: request.params.id, deleted: false } });
      if (!known) {
        throw notFound("SUBSCRIPTION_SCHEDULE_NOT_FOUND", `Schedule ${request.params.id} not found`);
      }
      await enqueue(db, {
        name: "subscription.fan-out",
        payload: { schedule: request.params.id, slot: new Date().toISOString(), manual: true },
        correlationId: request.id,
      });
      return reply.code(202).send({});
    },
  );
}
