import type { Subscription } from "@tidings/contracts";
import { waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { LANGUAGE, languageContent, newIdentity, T } from "./content-helpers.ts";
import { subscriptionTest } from "./support.ts";
import { address, identityEvent } from "./topics-helpers.ts";

const it = subscriptionTest({
  worker: true,
  events: ["outbound.send", "subscription.updated"],
  content: languageContent,
});

describe("language moves", () => {
  it("moves an identity's active subscriptions to its new language where the set has it, once", async ({
    svc,
    capture,
    t,
  }) => {
    const identity = newIdentity();
    const movable = await t.subscribe({ identity, messageset: 30, schedule: LANGUAGE });
    const noZulu = await t.subscribe({ identity, messageset: 31, schedule: LANGUAGE });
    const stopped = await t.subscribe({ identity, messageset: 30, schedule: LANGUAGE, active: false });
    const changed = identityEvent(identity, { addresses: {}, lang_code: "zul_ZA" }, [], T);
    await svc.broker.publish("identity.updated", changed);
    await svc.broker.publish("identity.updated", changed);
    await waitFor(async () => (await t.reload(movable.id)).lang === "zul_ZA", { what: "language move" });
    await t.settled();
    expect((await t.reload(noZulu.id)).lang).toBe("eng_ZA");
    expect((await t.reload(stopped.id)).lang).toBe("eng_ZA");
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
    t,
  }) => {
    const sub = await t.subscribe({ messageset: 31, schedule: LANGUAGE });
    const other = await t.subscribe({ messageset: 30, schedule: LANGUAGE });
    await t.fire("2026-04-01T08:00:00.000Z", LANGUAGE);
    await t.waitForSends({ [sub.identity]: 1, [other.identity]: 1 }, "first sends");
    const failed = {
      id: t.sendsTo(sub.identity)[0]?.id as string,
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
    await waitFor(async () => (await t.reload(sub.id)).processStatus === -1, { what: "marked" });
    await t.fire("2026-04-02T08:00:00.000Z", LANGUAGE);
    await waitFor(() => t.sendsTo(other.identity).length === 2, { what: "the other's second send" });
    await t.settled();
    expect(t.sendsTo(sub.identity)).toHaveLength(1);
    expect(await t.reload(sub.id)).toMatchObject({ processStatus: -1, nextSequenceNumber: 2 });
    expect((await t.reload(other.id)).processStatus).toBe(2); // sent both, completed: not marked
    const marked = capture.named<Subscription>("subscription.updated").filter((s) => s.id === sub.id);
    expect(marked.map((s) => s.process_status)).toEqual([-1]);

    await svc.broker.publish(
      "identity.updated",
      identityEvent(
        sub.identity,
        { addresses: { msisdn: { "+27820000001": {} } } },
        [address("msisdn", "+27820000001", { verified: false })],
        T,
        { version: 2 },
      ),
    );
    await waitFor(async () => (await t.reload(sub.id)).processStatus === 0, { what: "ready again" });
    await t.fire("2026-04-03T08:00:00.000Z", LANGUAGE);
    await waitFor(() => t.sendsTo(sub.identity).length === 2, { what: "resumed" });
    expect(t.sequencesTo(sub.identity)).toEqual([1, 2]);
  });
});
