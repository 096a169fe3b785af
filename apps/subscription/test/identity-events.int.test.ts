import type { Subscription } from "@tidings/contracts";
import { waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import {
  messages,
  newIdentity,
  publishContent,
  scheduleEvent as schedule,
  messageSetEvent as set,
  T,
} from "./content-helpers.ts";
import { subscriptionTest } from "./support.ts";

const LANGUAGE = 30;

/** Sets 30 (eng_ZA and zul_ZA) and 31 (eng_ZA only), two messages each. */
const it = subscriptionTest({
  worker: true,
  events: ["outbound.send", "subscription.updated"],
  content: (svc) =>
    publishContent(svc, {
      schedules: [schedule(LANGUAGE, "0 8 * * *")],
      sets: [set(30, null, LANGUAGE), set(31, null, LANGUAGE)],
      messages: [...messages(30, 2), ...messages(30, 2, "zul_ZA"), ...messages(31, 2)],
    }),
});

describe("language moves", () => {
  it("moves an identity's active subscriptions to its new language where the set has it, once", async ({
    svc,
    capture,
    subscribe,
    reload,
    settled,
  }) => {
    const identity = newIdentity();
    const movable = await subscribe({ identity, messageset: 30, schedule: LANGUAGE });
    const noZulu = await subscribe({ identity, messageset: 31, schedule: LANGUAGE });
    const stopped = await subscribe({ identity, messageset: 30, schedule: LANGUAGE, active: false });
    const changed = {
      id: identity,
      version: 1,
      details: { addresses: {}, lang_code: "zul_ZA" },
      communicate_through: null,
      operator: null,
      created_at: T,
      created_by: null,
      updated_at: T,
      updated_by: null,
      addresses: [],
    };
    await svc.broker.publish("identity.updated", changed);
    await svc.broker.publish("identity.updated", changed);
    await waitFor(async () => (await reload(movable.id)).lang === "zul_ZA", { what: "language move" });
    await settled();
    expect((await reload(noZulu.id)).lang).toBe("eng_ZA");
    expect((await reload(stopped.id)).lang).toBe("eng_ZA");
    const updates = capture
      .named<Subscription>("subscription.updated")
      .filter((s) => s.identity === identity);
    expect(updates.map((s) => [s.id, s.lang])).toEqual([[movable.id, "zul_ZA"]]);
  });
});

describe("identities without an address", () => {
  it("marks the subscription whose send failed for want of an address, stops sending, and resumes once it has one", async ({
    svc,
    capture,
    subscribe,
    fire,
    sendsTo,
    sequencesTo,
    reload,
    settled,
  }) => {
    const sub = await subscribe({ messageset: 31, schedule: LANGUAGE });
    const other = await subscribe({ messageset: 30, schedule: LANGUAGE });
    await fire("2026-04-01T08:00:00.000Z", LANGUAGE);
    await waitFor(() => sendsTo(sub.identity).length === 1 && sendsTo(other.identity).length === 1, {
      what: "first sends",
    });
    const failed = {
      id: sendsTo(sub.identity)[0]?.id as string,
      status: "failed" as const,
      to_identity: sub.identity,
      channel: "sms",
      provider_id: null,
      reason: "no address",
      at: new Date().toISOString(),
    };
    await svc.broker.publish("outbound.failed", failed);
    await svc.broker.publish("outbound.failed", failed);
    // Another reason, or another identity's outbound, marks nothing.
    await svc.broker.publish("outbound.failed", { ...failed, reason: "provider said no" });
    await svc.broker.publish("outbound.failed", { ...failed, to_identity: other.identity });
    await waitFor(async () => (await reload(sub.id)).processStatus === -1, { what: "marked" });
    await fire("2026-04-02T08:00:00.000Z", LANGUAGE);
    await waitFor(() => sendsTo(other.identity).length === 2, { what: "the other's second send" });
    await settled();
    expect(sendsTo(sub.identity)).toHaveLength(1);
    expect(await reload(sub.id)).toMatchObject({ processStatus: -1, nextSequenceNumber: 2 });
    expect((await reload(other.id)).processStatus).toBe(2); // sent both, completed: not marked
    const marked = capture.named<Subscription>("subscription.updated").filter((s) => s.id === sub.id);
    expect(marked.map((s) => s.process_status)).toEqual([-1]);

    await svc.broker.publish("identity.updated", {
      id: sub.identity,
      version: 2,
      details: { addresses: { msisdn: { "+27820000001": {} } } },
      communicate_through: null,
      operator: null,
      created_at: T,
      created_by: null,
      updated_at: T,
      updated_by: null,
      addresses: [
        {
          type: "msisdn",
          address: "+27820000001",
          default: true,
          optedout: false,
          inactive: false,
          verified: false,
        },
      ],
    });
    await waitFor(async () => (await reload(sub.id)).processStatus === 0, { what: "ready again" });
    await fire("2026-04-03T08:00:00.000Z", LANGUAGE);
    await waitFor(() => sendsTo(sub.identity).length === 2, { what: "resumed" });
    expect(sequencesTo(sub.identity)).toEqual([1, 2]);
  });
});
