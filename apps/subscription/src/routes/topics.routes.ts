import {
  IdentityTopic,
  IdParams,
  PreviewTopicBody,
  PublishAccepted,
  PublishParams,
  PublishPreview,
  PublishRecord,
  PublishTopicBody,
  SubscribeTopicBody,
  TopicParams,
  TopicSubscriber,
  TopicSubscriberParams,
  TopicSummary,
} from "@tidings/contracts";
import { type Api, errorResponses, pageRoute, routeError } from "@tidings/service-kit";
import Type from "typebox";
import {
  getPublish,
  listIdentityTopics,
  listTopicSubscribers,
  publishTopic,
  subscribeTopic,
  unsubscribeTopic,
} from "../services/topics.ts";
import { listTopics, previewPublish } from "../services/topics-preview.ts";
import { actorOf, type RouteDeps } from "./deps.ts";

const tags = ["topics"];

/** Topics (Meerkat Hermes pub/sub): subscribers, publishes and their records. */
export function topicRoutes(app: Api, { db }: RouteDeps): void {
  pageRoute(app, "/api/v1/topics/", {
    tags,
    summary: "Every topic with subscribers, and how many",
    description:
      "`{topic, subscribers}` per topic that has at least one subscriber, `limit`/`offset` pages in topic order.",
    item: TopicSummary,
    run: (_request, page) => listTopics(db, page),
  });

  app.post(
    "/api/v1/topics/:topic/subscribers/",
    {
      schema: {
        tags,
        summary: "Subscribe an identity to a topic (again: replaces its channels)",
        description:
          "`{identity, channels?}`: 201 for a new subscriber, 200 when it was already subscribed (its channels are replaced).",
        params: TopicParams,
        body: SubscribeTopicBody,
        response: { 200: TopicSubscriber, 201: TopicSubscriber, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { subscriber, created } = await subscribeTopic(
        db,
        request.params.topic,
        request.body,
        actorOf(request),
      );
      return reply.code(created ? 201 : 200).send(subscriber);
    },
  );

  pageRoute(app, "/api/v1/topics/:topic/subscribers/", {
    tags,
    summary: "A topic's subscribers",
    description:
      "The identities subscribed to the topic with their channels, `limit`/`offset` pages ordered by identity.",
    params: TopicParams,
    item: TopicSubscriber,
    run: (request, page) => listTopicSubscribers(db, request.params.topic, page),
  });

  app.delete(
    "/api/v1/topics/:topic/subscribers/:identity/",
    {
      schema: {
        tags,
        summary: "Unsubscribe an identity from a topic",
        description:
          "204; 404 TOPIC_SUBSCRIPTION_NOT_FOUND when it was not subscribed. Later publishes of the topic are not sent to it.",
        params: TopicSubscriberParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await unsubscribeTopic(db, request.params.topic, request.params.identity);
      return reply.code(204).send(null);
    },
  );

  pageRoute(app, "/api/v1/identities/:id/topics/", {
    tags,
    summary: "An identity's topics",
    description: "Every topic the identity is subscribed to, with its channels.",
    params: IdParams,
    item: IdentityTopic,
    run: (request, page) => listIdentityTopics(db, request.params.id, page),
  });

  app.post(
    "/api/v1/topics/:topic/publish/",
    {
      schema: {
        tags,
        summary: "Publish to a topic's verified subscribers (a publish_id published again sends nothing new)",
        description:
          "`{publish_id, content | template, personalisation?, subject?, channels?}`: one message to each verified subscriber of the topic (email messages carry an unsubscribe link); 202 `{publish_id, topic, recipients, duplicate}`. A `publish_id` published again sends nothing new (`duplicate: true`).",
        params: TopicParams,
        body: PublishTopicBody,
        response: {
          200: PublishAccepted,
          202: PublishAccepted,
          ...errorResponses,
          409: routeError("TOPIC_PUBLISH_ID_CONFLICT: the publish_id was used for another topic."),
        },
      },
    },
    async (request, reply) => {
      const accepted = await publishTopic(db, request.params.topic, request.body, actorOf(request));
      return reply.code(accepted.duplicate ? 200 : 202).send(accepted);
    },
  );

  app.post(
    "/api/v1/topics/:topic/publish/preview/",
    {
      schema: {
        tags,
        summary: "What a publish to the topic would send now (sends nothing)",
        description:
          "The body of a publish without `publish_id`: 200 `{topic, subscribers, recipients, messages, channels, languages, subject, content, sample}`, counted by the same rule as the publish; `sample` is the first recipient's mail-merged message (or the field it lacks).",
        params: TopicParams,
        body: PreviewTopicBody,
        response: { 200: PublishPreview, ...errorResponses },
      },
    },
    async (request) => previewPublish(db, request.params.topic, request.body),
  );

  app.get(
    "/api/v1/publishes/:publish_id/",
    {
      schema: {
        tags,
        summary: "A publish, with its recipients counted by status",
        description:
          "`{publish_id, topic, template, channels, recipients, counts, failures, created_at}`: how many of its messages are queued, sent, delivered or failed.",
        params: PublishParams,
        response: { 200: PublishRecord, ...errorResponses },
      },
    },
    async (request) => getPublish(db, request.params.publish_id),
  );
}
