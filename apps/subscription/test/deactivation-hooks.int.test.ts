import type { SubscriptionDeactivated } from "@tidings/contracts";
import { closeAfter, type HttpReceiver, serviceTest, startHttpReceiver, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { subscriptionService } from "../src/service.ts";
import { announceContent, api, newIdentity, subscribe } from "./content-helpers.ts";

const SCHEDULE = 80;
const PREGNANCY = 80;
const BABY = 81;

const it = serviceTest(subscriptionService, {
  worker: true,
  env: { HOOK_RETRY_BASE_MS: "20", HOOK_POLL_INTERVAL_MS: "20" },
}).extend<{ hub: HttpReceiver }>({
  // A hub with hooks for subscription.deactivated and subscription.updated, on content it can subscribe to.
  hub: [
    async ({ svc }, use) => {
      const hub = await startHttpReceiver();
      await announceContent(svc, SCHEDULE, [
        { id: PREGNANCY, length: 2 },
        { id: BABY, length: 2 },
      ]);
      for (const event of ["subscription.deactivated", "subscription.updated"]) {
        const hook = await api(svc, "POST", "/api/v1/webhook/", { event, target: `${hub.url}/${event}` });
        expect(hook.statusCode, hook.body).toBe(201);
      }
      await closeAfter(hub, use);
    },
    { scope: "file" },
  ],
});

type Delivery = { hook: { event: string }; data: SubscriptionDeactivated };
const deliveries = (hub: HttpReceiver, event: string, identity: string): Delivery[] =>
  hub.received
    .filter((r) => r.path === `/${event}`)
    .map((r) => JSON.parse(r.body) as Delivery)
    .filter((d) => d.data.identity === identity);

describe("subscription.deactivated REST hook", () => {
  it("reaches a hook for every subscription identity.max_failures stopped, with the reason and the count", async ({
    svc,
    hub,
  }) => {
    const identity = newIdentity();
    const pregnancy = await subscribe(svc, { identity, messageset: PREGNANCY, schedule: SCHEDULE });
    const baby = await subscribe(svc, { identity, messageset: BABY, schedule: SCHEDULE });
    // What identity publishes when her fifth consecutive message failed.
    await svc.broker.publish("identity.max_failures", { identity_id: identity, failure_count: 5 });

    const got = await waitFor(
      () => {
        const d = deliveries(hub, "subscription.deactivated", identity);
        return d.length === 2 ? d : undefined;
      },
      { what: "subscription.deactivated at the hub", timeoutMs: 20_000 },
    );
    expect(got.map((d) => d.data.id).sort()).toEqual([pregnancy.id, baby.id].sort());
    for (const d of got) {
      expect(d.hook.event).toBe("subscription.deactivated");
      expect(d.data).toMatchObject({
        identity,
        active: false,
        reason: "max_failures",
        failure_count: 5,
        optout_type: null,
      });
    }
    // subscription.updated as before, for hubs that listen to it.
    await waitFor(() => deliveries(hub, "subscription.updated", identity).length === 2, {
      what: "subscription.updated at the hub",
    });
    const rows = await svc.db.subscription.findMany({ where: { identity } });
    expect(rows.every((r) => !r.active)).toBe(true);

    // A redelivered or repeated max_failures finds nothing active: nothing more reaches the hook.
    await svc.broker.publish("identity.max_failures", { identity_id: identity, failure_count: 5 });
    await new Promise((r) => setTimeout(r, 500));
    expect(deliveries(hub, "subscription.deactivated", identity)).toHaveLength(2);
  });

  it("names the other reasons: an opt-out of everything and a deleted identity", async ({ svc, hub }) => {
    const optedOut = newIdentity();
    const deleted = newIdentity();
    await subscribe(svc, { identity: optedOut, messageset: PREGNANCY, schedule: SCHEDULE });
    await subscribe(svc, { identity: deleted, messageset: PREGNANCY, schedule: SCHEDULE });
    await svc.broker.publish("optout.created", {
      id: "7d6c5b4a-3f2e-4d1c-8b0a-9f8e7d6c5b4a",
      identity: optedOut,
      optout_type: "stopall",
      address_type: "msisdn",
      address: "+27820001001",
      request_source: "test",
      requestor_source_id: null,
      reason: null,
      topic: null,
      identity_details: {},
      created_at: new Date().toISOString(),
    });
    await svc.broker.publish("identity.deleted", { id: deleted });
    const [opt] = await waitFor(
      () => {
        const d = deliveries(hub, "subscription.deactivated", optedOut);
        return d.length ? d : undefined;
      },
      { what: "opt-out deactivation" },
    );
    expect(opt?.data).toMatchObject({ reason: "optout", optout_type: "stopall", failure_count: null });
    const [gone] = await waitFor(
      () => {
        const d = deliveries(hub, "subscription.deactivated", deleted);
        return d.length ? d : undefined;
      },
      { what: "deletion deactivation" },
    );
    expect(gone?.data).toMatchObject({ reason: "identity_deleted", optout_type: null, failure_count: null });
  });
});
