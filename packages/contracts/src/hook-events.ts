import type { Static, TSchema } from "typebox";
import { catalog, type MessageName } from "./catalog.ts";
import type { Service } from "./definitions.ts";
import { IDENTITY_ID, identity, NOW, OUTBOUND_ID, outboundStatus } from "./examples.ts";
import { SchedulerScheduleRun } from "./http/scheduler.ts";
import { OptInRequested, OptOutRequested } from "./messages/identity.ts";
import {
  IdentityNoAddress,
  InboundReceivedHook,
  OutboundDeliveryReportHook,
  OutboundFailedHook,
} from "./messages/message-sender.ts";

/**
 * Who receives a hook event: `all` hooks of the event (Seed's `created+` model events), or only the hooks
 * owned by the API user who acted (`actor`: Seed's user-scoped raw events; when the admin token or a worker
 * acts, every hook of the event does).
 */
export type HookAudience = "all" | "actor";

/** A REST-hook event (`/api/v1/webhook/`): what its deliveries carry and to whom they go. */
export interface HookEventDefinition {
  /** The service that offers it (its database holds the hooks and their deliveries). */
  service: Service;
  /** The delivered data. */
  schema: TSchema;
  example: unknown;
  description: string;
  audience: HookAudience;
  /**
   * `envelope`: Seed's rest-hooks body `{"hook": {"id", "event", "target"}, "data": <data>}`; `raw`: the data
   * alone (Seed's `send_hook_meta=False` events, read as such by the hubs).
   */
  body: "envelope" | "raw";
  /** Delivered by publishing the catalog message of the same name, whose payload is the data. */
  message?: true;
}

/** A hook event delivered with the catalog message of the same name (same schema, same payload). */
const withMessage = <const N extends MessageName>(name: N, audience: HookAudience = "all") =>
  ({
    service: catalog[name].exchange,
    schema: catalog[name].schema,
    example: catalog[name].example,
    description: catalog[name].description,
    audience,
    body: "envelope",
    message: true,
  }) as const;

/** Every REST-hook event, each with its schema: the services offer exactly these at `/api/v1/webhook/`. */
export const hookEvents = {
  "identity.created": withMessage("identity.created"),
  "identity.updated": withMessage("identity.updated"),
  "identity.deleted": withMessage("identity.deleted"),
  "identity.max_failures": withMessage("identity.max_failures", "actor"),
  "optout.requested": {
    service: "identity",
    schema: OptOutRequested,
    example: {
      identity: IDENTITY_ID,
      identity_details: identity.details,
      optout_type: "stop",
      optout_reason: null,
      optout_source: "sms-inbound",
    },
    description: "An opt-out was requested (Seed's raw hook); the identity's details before it took effect.",
    audience: "actor",
    body: "raw",
  },
  "optin.requested": {
    service: "identity",
    schema: OptInRequested,
    example: {
      identity: IDENTITY_ID,
      identity_details: identity.details,
      optin_address_type: "msisdn",
      optin_address: "+27820001001",
    },
    description: "An opt-in was requested (Seed's raw hook); the identity's details before it took effect.",
    audience: "actor",
    body: "raw",
  },
  "schedule.added": withMessage("schedule.added"),
  "schedule.fired": {
    service: "scheduler",
    schema: SchedulerScheduleRun,
    example: {
      id: "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
      schedule: "2f4b8c7e-9a1d-4e3f-8b2a-1c0d9e8f7a6b",
      slot: NOW,
      trigger: "cron",
      manual: false,
      fired_at: NOW,
      delivered_at: null,
    },
    description:
      "A schedule's slot fired, whatever its target: the run record (the broker's `schedule.fired` is for AMQP targets only).",
    audience: "all",
    body: "envelope",
  },
  "subscription.created": withMessage("subscription.created"),
  "subscription.updated": withMessage("subscription.updated"),
  "subscription.completed": withMessage("subscription.completed"),
  "subscription.deactivated": withMessage("subscription.deactivated"),
  "outbound.delivery_report": {
    service: "message-sender",
    schema: OutboundDeliveryReportHook,
    example: { outbound_id: OUTBOUND_ID, delivered: false, to_addr: "+27820001001", identity: IDENTITY_ID },
    description:
      "An outbound was delivered, or failed for good (Seed's hook; identity's `message_count` and the hubs read it). `to_addr` is \"\" once delivered.",
    audience: "all",
    body: "envelope",
  },
  "outbound.failed": {
    service: "message-sender",
    schema: OutboundFailedHook,
    example: { ...outboundStatus, status: "failed", provider_id: null, reason: "no address", attempts: 0 },
    description:
      "An outbound failed for good (`status` failed), or was never sent (`expired`, `cancelled`); `reason` is its last error.",
    audience: "all",
    body: "envelope",
  },
  "inbound.received": {
    service: "message-sender",
    schema: InboundReceivedHook,
    example: {
      id: "5b2e9f7a-1c3d-4e5f-8a9b-0c1d2e3f4a5b",
      message_id: "SM0123456789abcdef0123456789abcdef",
      in_reply_to: null,
      to_addr: "+15005550006",
      from_addr: "",
      from_identity: IDENTITY_ID,
      content: "STOP",
      transport_name: "TWILIO",
      transport_type: "twilio",
      helper_metadata: {},
      created_at: NOW,
      updated_at: NOW,
      channel: "TWILIO",
      keyword: "stop",
      reply_to_outbound: null,
    },
    description: "An inbound message was stored (Seed's inbound fields).",
    audience: "all",
    body: "envelope",
  },
  "identity.no_address": {
    service: "message-sender",
    schema: IdentityNoAddress,
    example: { to_identity: IDENTITY_ID },
    description: "An outbound to an identity failed: the identity has no address to send to (Seed's hook).",
    audience: "all",
    body: "envelope",
  },
} as const satisfies Record<string, HookEventDefinition>;

export type HookEvents = typeof hookEvents;
export type HookEventName = keyof HookEvents;
export type HookData<N extends HookEventName> = Static<HookEvents[N]["schema"]>;
/** The hook events that publishing their catalog message delivers. */
export type MessageHookName = {
  [N in HookEventName]: HookEvents[N] extends { message: true } ? N : never;
}[HookEventName];
/** The hook events published on their own, with data no catalog message carries. */
export type StandaloneHookName = Exclude<HookEventName, MessageHookName>;

export const hookEventNames = Object.keys(hookEvents) as HookEventName[];

export const isHookEventName = (name: string): name is HookEventName => Object.hasOwn(hookEvents, name);

/** The hook events a service offers. */
export const hookEventsOf = (service: Service): HookEventName[] =>
  hookEventNames.filter((name) => hookEvents[name].service === service);

/** The hook event that publishing this message delivers, if any. */
export function hookOfMessage(name: MessageName): MessageHookName | undefined {
  const hook: HookEventDefinition | undefined = isHookEventName(name) ? hookEvents[name] : undefined;
  return hook?.message ? (name as MessageHookName) : undefined;
}
