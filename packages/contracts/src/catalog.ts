import type { Static, TSchema } from "typebox";
import {
  contentSchedule,
  IDENTITY_ID,
  identity,
  message,
  messageSet,
  NOW,
  OUTBOUND_ID,
  outboundStatus,
  subscription,
} from "./examples.ts";
import {
  ContentDeleted,
  ContentSchedule,
  Message,
  MessageDeleted,
  MessageSet,
  Template,
} from "./messages/content.ts";
import {
  IdentityChanged,
  IdentityDeleted,
  IdentityMaxFailures,
  OptInCreated,
  OptOutCreated,
} from "./messages/identity.ts";
import {
  InboundReceived,
  OptOutReported,
  OutboundDeliveryReport,
  OutboundSend,
  OutboundStatusChanged,
} from "./messages/message-sender.ts";
import { ScheduleAdded, ScheduleDeliver, ScheduleFired } from "./messages/scheduler.ts";
import {
  Subscription,
  SubscriptionDeactivated,
  SubscriptionFanOut,
  SubscriptionSendNext,
} from "./messages/subscription.ts";
import { TopicFanOut, TopicSendBatch, TopicUnsubscribed } from "./messages/topics.ts";

/** The services; each producing service owns one topic exchange of the same name. */
export const SERVICES = ["identity", "subscription", "content", "scheduler", "message-sender"] as const;
export type Service = (typeof SERVICES)[number];

export interface MessageDefinition {
  /** Events say what happened (`<entity>.<past-verb>`); commands ask for work (`<entity>.<imperative>`). */
  kind: "event" | "command";
  exchange: Service;
  schema: TSchema;
  example: unknown;
  description: string;
  /**
   * Routes copies of the message by a payload field: published with routing key `<name>.<value>` (the plain
   * name for `default` or no value), so queues can split it into lanes. See `routingKey`.
   */
  lanes?: { field: string; values: readonly string[]; default: string };
}
/** Every message that crosses the broker. The routing key is the message name. */
export const catalog = {
  "identity.created": {
    kind: "event",
    exchange: "identity",
    schema: IdentityChanged,
    example: identity,
    description: "An identity was created; carries its addresses with their flags.",
  },
  "identity.updated": {
    kind: "event",
    exchange: "identity",
    schema: IdentityChanged,
    example: { ...identity, version: 2 },
    description: "An identity changed; carries the whole identity and its addresses.",
  },
  "identity.deleted": {
    kind: "event",
    exchange: "identity",
    schema: IdentityDeleted,
    example: { id: IDENTITY_ID },
    description: "An identity was deleted.",
  },
  "identity.max_failures": {
    kind: "event",
    exchange: "identity",
    schema: IdentityMaxFailures,
    example: { identity_id: IDENTITY_ID, failure_count: 5 },
    description: "Consecutive failed sends to an identity reached the threshold (once per crossing).",
  },
  "optout.created": {
    kind: "event",
    exchange: "identity",
    schema: OptOutCreated,
    example: {
      id: "3b1f7c2e-8a4d-4e5f-9a6b-7c8d9e0f1a2b",
      optout_type: "stop",
      identity: IDENTITY_ID,
      address_type: "msisdn",
      address: "+27820001001",
      request_source: "sms-inbound",
      requestor_source_id: null,
      reason: null,
      topic: null,
      created_at: NOW,
      identity_details: identity.details,
    },
    description: "An opt-out was recorded; carries the identity's details before it took effect.",
  },
  "optin.created": {
    kind: "event",
    exchange: "identity",
    schema: OptInCreated,
    example: {
      id: "4c2a8d3f-9b5e-4f60-8b7c-8d9e0f1a2b3c",
      identity: IDENTITY_ID,
      address_type: "msisdn",
      address: "+27820001001",
      request_source: "sms-inbound",
      requestor_source_id: null,
      created_at: NOW,
      identity_details: identity.details,
    },
    description: "An opt-in was recorded; carries the identity's details before it took effect.",
  },
  "content.schedule.changed": {
    kind: "event",
    exchange: "content",
    schema: ContentSchedule,
    example: contentSchedule,
    description: "A content schedule was created or changed; the scheduler mirrors it.",
  },
  "content.schedule.deleted": {
    kind: "event",
    exchange: "content",
    schema: ContentDeleted,
    example: { id: 1 },
    description: "A content schedule was deleted; its mirror is disabled.",
  },
  "content.messageset.changed": {
    kind: "event",
    exchange: "content",
    schema: MessageSet,
    example: messageSet,
    description: "A message set was created or changed.",
  },
  "content.messageset.deleted": {
    kind: "event",
    exchange: "content",
    schema: ContentDeleted,
    example: { id: 1 },
    description: "A message set was deleted.",
  },
  "content.message.changed": {
    kind: "event",
    exchange: "content",
    schema: Message,
    example: message,
    description: "A message was created or changed; carries its content.",
  },
  "content.message.deleted": {
    kind: "event",
    exchange: "content",
    schema: MessageDeleted,
    example: { id: 1, messageset: 1, sequence_number: 1, lang: "eng_ZA" },
    description: "A message was deleted.",
  },
  "content.template.changed": {
    kind: "event",
    exchange: "content",
    schema: Template,
    example: {
      id: 1,
      name: "Clinic reminder",
      type: "sms",
      subject: null,
      body: "Hi ((name)), your visit is on ((date)).",
      version: 2,
      placeholders: ["name", "date"],
      encoding: "GSM-7",
      segments: 1,
      created_at: NOW,
      updated_at: NOW,
    },
    description: "A template was created or changed (a new version); carries the template.",
  },
  "content.template.deleted": {
    kind: "event",
    exchange: "content",
    schema: ContentDeleted,
    example: { id: 1 },
    description: "A template was deleted, with its versions.",
  },
  "schedule.fired": {
    kind: "event",
    exchange: "scheduler",
    schema: ScheduleFired,
    example: {
      schedule_id: "2f4b8c7e-9a1d-4e3f-8b2a-1c0d9e8f7a6b",
      slot: NOW,
      manual: false,
      source: { service: "content", ref: "1" },
      payload: {},
    },
    description: "A schedule's slot came due (once per slot, whatever the number of scheduler workers).",
  },
  "schedule.deliver": {
    kind: "command",
    exchange: "scheduler",
    schema: ScheduleDeliver,
    example: {
      schedule_id: "2f4b8c7e-9a1d-4e3f-8b2a-1c0d9e8f7a6b",
      run_id: "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
      slot: NOW,
      manual: false,
      endpoint: "https://hub.example.org/api/v1/callback/",
      payload: {},
      timeout_seconds: 30,
    },
    description: "POST one slot of an HTTP schedule to its endpoint (retried, then recorded as failed).",
  },
  "schedule.added": {
    kind: "event",
    exchange: "scheduler",
    schema: ScheduleAdded,
    example: {
      id: "2f4b8c7e-9a1d-4e3f-8b2a-1c0d9e8f7a6b",
      cron_definition: "0 8 * * 1,4",
      interval_definition: null,
      timezone: "Africa/Johannesburg",
      catch_up: "latest",
      enabled: true,
      endpoint: null,
      message: null,
      payload: {},
      source: null,
      next_send_at: "2026-01-08T06:00:00.000Z",
      created_at: NOW,
      updated_at: NOW,
    },
    description: "A schedule was created (never carries its auth token).",
  },
  "subscription.created": {
    kind: "event",
    exchange: "subscription",
    schema: Subscription,
    example: { ...subscription, next_sequence_number: 1 },
    description: "A subscription was created (by the API, a hub request or a rollover).",
  },
  "subscription.updated": {
    kind: "event",
    exchange: "subscription",
    schema: Subscription,
    example: subscription,
    description: "A subscription changed.",
  },
  "subscription.completed": {
    kind: "event",
    exchange: "subscription",
    schema: Subscription,
    example: { ...subscription, active: false, completed: true, process_status: 2 },
    description: "A subscription was sent the last message of its set.",
  },
  "subscription.deactivated": {
    kind: "event",
    exchange: "subscription",
    schema: SubscriptionDeactivated,
    example: {
      ...subscription,
      active: false,
      reason: "max_failures",
      failure_count: 5,
      optout_type: null,
    },
    description:
      "The service stopped a subscription: its identity kept failing (identity.max_failures), was deleted or opted out of everything. Published with subscription.updated.",
  },
  "subscription.fan-out": {
    kind: "command",
    exchange: "subscription",
    schema: SubscriptionFanOut,
    example: { schedule: 1, slot: NOW, manual: true },
    description: "Send every ready subscription on a content schedule (POST /api/v1/schedule/{id}/send/).",
  },
  "subscription.send-next": {
    kind: "command",
    exchange: "subscription",
    schema: SubscriptionSendNext,
    example: { subscription_ids: [subscription.id], schedule: 1, slot: NOW },
    description: "Send a batch of subscriptions their next message for a schedule slot (fan-out work item).",
  },
  "topic.fan-out": {
    kind: "command",
    exchange: "subscription",
    schema: TopicFanOut,
    example: { publish_id: "outbreak-2026-01-05" },
    description: "Send a topic publish to its subscribers (POST /api/v1/topics/{topic}/publish/).",
  },
  "topic.send-batch": {
    kind: "command",
    exchange: "subscription",
    schema: TopicSendBatch,
    example: { publish_id: "outbreak-2026-01-05", identities: [IDENTITY_ID] },
    description: "Send a topic publish to a batch of its subscribers (fan-out work item).",
  },
  "topic.unsubscribed": {
    kind: "event",
    exchange: "subscription",
    schema: TopicUnsubscribed,
    example: {
      id: "3e0f6b1a-5c2d-5e4f-9a8b-7c6d5e4f3a2b",
      identity: IDENTITY_ID,
      topic: "outbreak/ke/nairobi",
      channel: "email",
      method: "one-click",
      at: NOW,
    },
    description:
      "A person unsubscribed through a topic message's link; the identity service records consent.",
  },
  "outbound.send": {
    kind: "command",
    exchange: "message-sender",
    schema: OutboundSend,
    example: { id: OUTBOUND_ID, to_identity: IDENTITY_ID, content: "Welcome!", metadata: {} },
    description: "Send one message; its id is the idempotency key. Routed by `priority` to its lane's queue.",
    lanes: { field: "priority", values: ["high", "normal", "bulk"], default: "normal" },
  },
  "outbound.submitted": {
    kind: "event",
    exchange: "message-sender",
    schema: OutboundStatusChanged,
    example: outboundStatus,
    description: "A provider accepted an outbound.",
  },
  "outbound.delivered": {
    kind: "event",
    exchange: "message-sender",
    schema: OutboundStatusChanged,
    example: { ...outboundStatus, status: "delivered" },
    description: "An outbound was delivered.",
  },
  "outbound.failed": {
    kind: "event",
    exchange: "message-sender",
    schema: OutboundStatusChanged,
    example: { ...outboundStatus, status: "failed", provider_id: null, reason: "no address" },
    description: "An outbound failed for good.",
  },
  "outbound.delivery_report": {
    kind: "event",
    exchange: "message-sender",
    schema: OutboundDeliveryReport,
    example: {
      outbound_id: OUTBOUND_ID,
      identity: IDENTITY_ID,
      delivered: true,
      status: "delivered",
      reason: null,
      at: NOW,
    },
    description: "An outbound reached a final status; feeds the identity's failure counter.",
  },
  "inbound.received": {
    kind: "event",
    exchange: "message-sender",
    schema: InboundReceived,
    example: {
      id: "5b2e9f7a-1c3d-4e5f-8a9b-0c1d2e3f4a5b",
      channel: "TWILIO",
      message_id: "SM0123456789abcdef0123456789abcdef",
      in_reply_to: null,
      from_identity: IDENTITY_ID,
      from_addr: null,
      to_addr: "+15005550006",
      content: "STOP",
      keyword: "stop",
      at: NOW,
    },
    description: "A person sent a message; `keyword` (stop/start/help) asks the identity service to act.",
  },
  "optout.reported": {
    kind: "event",
    exchange: "message-sender",
    schema: OptOutReported,
    example: {
      outbound_id: "6c3f0a8b-2d4e-4f60-9b1c-1d2e3f4a5b6c",
      identity: IDENTITY_ID,
      address_type: "msisdn",
      address: "+27820001001",
      channel: "TWILIO",
      provider_code: "twilio 21610",
      at: NOW,
    },
    description:
      "A provider said the recipient unsubscribed (Twilio 21610); the identity service records the opt-out.",
  },
} as const satisfies Record<string, MessageDefinition>;

export type Catalog = typeof catalog;
export type MessageName = keyof Catalog;
export type Payload<N extends MessageName> = Static<Catalog[N]["schema"]>;

export const messageNames = Object.keys(catalog) as MessageName[];

export const isMessageName = (name: string): name is MessageName => Object.hasOwn(catalog, name);
