import { Broker } from "@tidings/amqp";
import type { MessageName, OutboundSend, Subscription } from "@tidings/contracts";
import { startServiceWorker } from "@tidings/service-kit";
import { AMQP_URL, type StartOptions, serviceTest, testLogger, waitFor } from "@tidings/testing";
import { createDb } from "../src/db.ts";
import { subscriptionService } from "../src/service.ts";
import { api, type Method, newIdentity, type Svc, subscribe } from "./content-helpers.ts";

export interface SubscriptionTestOptions extends StartOptions {
  /** What the message capture records (none by default). */
  events?: readonly MessageName[];
  /** Announces the file's content (see `publishContent`, `announceContent`) before its first test. */
  content?: (svc: Svc) => Promise<void>;
  /** Fields of every `subscribe` body the test does not give (a fresh identity and eng_ZA besides). */
  defaults?: Record<string, unknown>;
}

export interface SubscriptionFixtures {
  /** An admin request to the subscription API. */
  api: (method: Method, url: string, payload?: object) => ReturnType<typeof api>;
  /** POST /api/v1/subscriptions/ with the file's defaults, expecting `status` (201 by default). */
  subscribe: (body: Record<string, unknown>, status?: 200 | 201) => Promise<Subscription>;
  /** The scheduler's schedule.fired for content schedule `scheduleId` at `slot`. */
  fire: (slot: string, scheduleId: number) => Promise<unknown>;
  /** The captured outbound.send messages (`events` must name it), all or to `identity`. */
  sendsTo: (identity?: string) => OutboundSend[];
  /** The `seq` metadata of the captured sends to `identity`. */
  sequencesTo: (identity: string) => number[];
  /** The subscription row `id`, read again. */
  reload: (id: string) => ReturnType<Svc["db"]["subscription"]["findUniqueOrThrow"]>;
  /** Waits until nothing more is sent for a moment, so a duplicate would have shown up. */
  settled: () => Promise<void>;
}

/**
 * The `it` of a subscription test file: `serviceTest`'s `{ svc, capture, receiver }`, the file's content announced
 * before its first test, and the helpers of `SubscriptionFixtures` bound to the file's service and capture.
 */
export function subscriptionTest({
  events = [],
  content,
  defaults = {},
  ...options
}: SubscriptionTestOptions) {
  return serviceTest(subscriptionService, options, events).extend<
    SubscriptionFixtures & { content: undefined }
  >({
    content: [
      async ({ svc }, use) => {
        await content?.(svc);
        await use(undefined);
      },
      { scope: "file", auto: true },
    ],
    api: [
      async ({ svc }, use) => use((method, url, payload) => api(svc, method, url, payload)),
      { scope: "file" },
    ],
    subscribe: [
      async ({ svc }, use) =>
        use((body, status) => subscribe(svc, { identity: newIdentity(), ...defaults, ...body }, status)),
      { scope: "file" },
    ],
    fire: [
      async ({ svc }, use) =>
        use((slot, scheduleId) =>
          svc.broker.publish("schedule.fired", {
            schedule_id: "2f4b8c7e-9a1d-4e3f-8b2a-1c0d9e8f7a6b",
            slot,
            manual: false,
            source: { service: "content", ref: String(scheduleId) },
            payload: {},
          }),
        ),
      { scope: "file" },
    ],
    sendsTo: [
      async ({ capture }, use) =>
        use((identity) =>
          capture
            .named<OutboundSend>("outbound.send")
            .filter((s) => identity === undefined || s.to_identity === identity),
        ),
      { scope: "file" },
    ],
    sequencesTo: [
      async ({ sendsTo }, use) =>
        use((identity) => sendsTo(identity).map((s) => (s.metadata as { seq: number }).seq)),
      { scope: "file" },
    ],
    reload: [
      async ({ svc }, use) => use((id) => svc.db.subscription.findUniqueOrThrow({ where: { id } })),
      { scope: "file" },
    ],
    settled: [
      async ({ sendsTo }, use) =>
        use(async () => {
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
        }),
      { scope: "file" },
    ],
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
