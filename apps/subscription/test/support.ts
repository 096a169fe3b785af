import { Broker } from "@tidings/amqp";
import type { MessageName, OutboundSend, Subscription, SubscriptionResponse } from "@tidings/contracts";
import { type Clock, startServiceWorker } from "@tidings/service-kit";
import {
  AMQP_URL,
  type Capture,
  type StartOptions,
  serviceTest,
  testLogger,
  waitFor,
} from "@tidings/testing";
import { expect } from "vitest";
import { createDb } from "../src/db.ts";
import { subscriptionService, subscriptionServiceAt } from "../src/service.ts";
import { api, type Method, newIdentity, type Svc, subscribe } from "./content-helpers.ts";
import { UNSUBSCRIBE_SECRET } from "./topics-helpers.ts";

export interface SubscriptionTestOptions extends StartOptions {
  /** What the message capture records (none by default). */
  events?: readonly MessageName[];
  /** Announces the file's content (see `publishContent`, `announceContent`) before its first test. */
  content?: (svc: Svc) => Promise<void>;
  /** Fields of every `subscribe` body the test does not give (a fresh identity and eng_ZA besides). */
  defaults?: Record<string, unknown>;
  /** The API's time (the Seed send trigger's slot is the schedule's latest at it); the system's by default. */
  clock?: Clock;
}

export interface SubscriptionHarness {
  /** An admin request to the subscription API. */
  api: (method: Method, url: string, payload?: object) => ReturnType<typeof api>;
  /** POST /api/v1/subscriptions/ with the file's defaults, expecting `status` (201 by default). */
  subscribe: (body: Record<string, unknown>, status?: 200 | 201) => Promise<SubscriptionResponse>;
  /** The scheduler's schedule.fired for content schedule `scheduleId` at `slot`. */
  fire: (slot: string, scheduleId: number) => Promise<unknown>;
  /** The captured outbound.send messages (`events` must name it), all or to `identity`. */
  sendsTo: (identity?: string) => OutboundSend[];
  /** Waits until each identity of `counts` was sent its number of messages (`what`: what the wait is for). */
  waitForSends: (counts: Record<string, number>, what: string) => Promise<unknown>;
  /** The `seq` metadata of the captured sends to `identity`. */
  sequencesTo: (identity: string) => number[];
  /** The subscription row `id`, read again. */
  reload: (id: string) => ReturnType<Svc["db"]["subscription"]["findUniqueOrThrow"]>;
  /** Waits until nothing more is sent for a moment, so a duplicate would have shown up. */
  settled: () => Promise<void>;
}

/** The `name` events `capture` holds about `identity`'s subscriptions. */
export const subscriptionEvents = (
  capture: Capture,
  name: "subscription.created" | "subscription.updated",
  identity: string,
) => capture.named<Subscription>(name).filter((s) => s.identity === identity);

/** `subscriptionEvents`, read after a moment (300 ms) in which a duplicate would have shown up. */
export async function subscriptionEventsAfterAMoment(...args: Parameters<typeof subscriptionEvents>) {
  await new Promise((r) => setTimeout(r, 300));
  return subscriptionEvents(...args);
}

/** The helpers of a subscription test file, bound to its service, capture and `subscribe` defaults. */
function harness(svc: Svc, capture: Capture, defaults: Record<string, unknown>): SubscriptionHarness {
  const sendsTo = (identity?: string) =>
    capture
      .named<OutboundSend>("outbound.send")
      .filter((s) => identity === undefined || s.to_identity === identity);
  return {
    api: (method, url, payload) => api(svc, method, url, payload),
    subscribe: (body, status) => subscribe(svc, { identity: newIdentity(), ...defaults, ...body }, status),
    fire: (slot, scheduleId) =>
      svc.broker.publish("schedule.fired", {
        schedule_id: "2f4b8c7e-9a1d-4e3f-8b2a-1c0d9e8f7a6b",
        slot,
        manual: false,
        source: { service: "content", ref: String(scheduleId) },
        payload: {},
      }),
    sendsTo,
    waitForSends: (counts, what) =>
      waitFor(() => Object.entries(counts).every(([identity, n]) => sendsTo(identity).length === n), {
        what,
      }),
    sequencesTo: (identity) => sendsTo(identity).map((s) => (s.metadata as { seq: number }).seq),
    reload: (id) => svc.db.subscription.findUniqueOrThrow({ where: { id } }),
    settled: async () => {
      let last = -1;
      await waitFor(
        async () => {
          const now = sendsTo().length;
          const stable = now === last;
          last = now;
          await new Promise((r) => setTimeout(r, 400));
          return stable;
        },
        { what: "no more sends", timeoutMs: 20_000 },
      );
    },
  };
}

/**
 * The `it` of a subscription test file: `serviceTest`'s `{ svc, capture, receiver }`, the file's content announced
 * before its first test, and `t`, the helpers of `SubscriptionHarness`.
 */
export function subscriptionTest({
  events = [],
  content,
  defaults = {},
  clock,
  ...options
}: SubscriptionTestOptions) {
  const service = clock ? subscriptionServiceAt(clock) : subscriptionService;
  return serviceTest(service, options, events).extend<{
    content: undefined;
    t: SubscriptionHarness;
  }>({
    content: [
      async ({ svc }, use) => {
        await content?.(svc);
        await use(undefined);
      },
      { scope: "file", auto: true },
    ],
    t: [async ({ svc, capture }, use) => use(harness(svc, capture, defaults)), { scope: "file" }],
  });
}

/** Runs `run` while a second worker of `svc` (a database client and broker connection of its own) competes. */
export async function withSecondWorker<T>(svc: Svc, run: () => Promise<T>): Promise<T> {
  const db = createDb(svc.config.DATABASE_URL);
  const broker = await Broker.connect({
    url: AMQP_URL,
    namespace: svc.namespace,
    service: "subscription",
    logger: testLogger(),
  });
  const stop = await startServiceWorker(subscriptionService, { ...svc, db, broker });
  try {
    return await run();
  } finally {
    await stop();
    await broker.close();
    await db.$disconnect();
  }
}

export interface TopicFixtures {
  /** An admin request to the subscription API. */
  call: SubscriptionHarness["api"];
  /** Subscribes `identity` to `topic` (on `channels`); fails the test unless the answer is a 2xx. */
  subscribe: (topic: string, identity: string, channels?: string[]) => ReturnType<typeof api>;
  /** Publishes `body` to `topic`; fails the test unless the answer is `status` (any 2xx by default). */
  publish: (
    topic: string,
    body: object,
    status?: number,
  ) => Promise<{ publish_id: string; recipients: number; duplicate: boolean }>;
  /** The captured outbound.send messages of publish `publishId`. */
  sendsOf: (publishId: string) => OutboundSend[];
}

/**
 * The `it` of a topics test file: subscription with its worker and `UNSUBSCRIBE_SECRET` (and `env`), capturing
 * `events`; its tests take `serviceTest`'s fixtures and those of `TopicFixtures`.
 */
export function topicsTest(env: Record<string, string>, events: readonly MessageName[]) {
  return serviceTest(
    subscriptionService,
    { worker: true, env: { UNSUBSCRIBE_SECRET, ...env } },
    events,
  ).extend<TopicFixtures>({
    call: [
      async ({ svc }, use) => use((method, url, payload) => api(svc, method, url, payload)),
      { scope: "file" },
    ],
    subscribe: [
      async ({ call }, use) =>
        use(async (topic, identity, channels) => {
          const res = await call("POST", `/api/v1/topics/${encodeURIComponent(topic)}/subscribers/`, {
            identity,
            ...(channels ? { channels } : {}),
          });
          expect(res.statusCode, res.body).toBeLessThan(300);
          return res;
        }),
      { scope: "file" },
    ],
    publish: [
      async ({ call }, use) =>
        use(async (topic, body, status) => {
          const res = await call("POST", `/api/v1/topics/${encodeURIComponent(topic)}/publish/`, body);
          if (status === undefined) {
            expect(res.statusCode, res.body).toBeLessThan(300);
          } else {
            expect(res.statusCode, res.body).toBe(status);
          }
          return res.json();
        }),
      { scope: "file" },
    ],
    sendsOf: [
      async ({ capture }, use) =>
        use((publishId) =>
          capture.named<OutboundSend>("outbound.send").filter((s) => s.metadata.publish_id === publishId),
        ),
      { scope: "file" },
    ],
  });
}
