import { randomUUID } from "node:crypto";
import type { OptOutCreated, TopicUnsubscribed } from "@tidings/contracts";
import { adminAuth, serviceTest, type TestService, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import type { IdentityConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { identityService } from "../src/service.ts";

const it = serviceTest(identityService, { worker: true }, ["optout.created"]);

const ledger = async (svc: TestService<IdentityConfig, Db>, identity: string) =>
  (await svc.app.inject({ url: `/api/v1/identities/${identity}/consent/`, headers: adminAuth })).json()
    .results as {
    kind: string;
    scope: string;
    topic: string | null;
    channel: string | null;
    source: string;
  }[];

describe("topic.unsubscribed (unsubscribe links)", () => {
  it("records an unsubscribe opt-out in the consent ledger once, for a topic or for everything", async ({
    svc,
    capture,
  }) => {
    const created = await svc.app.inject({
      method: "POST",
      url: "/api/v1/identities/",
      headers: adminAuth,
      payload: { details: { default_addr_type: "email", addresses: { email: { "una@example.org": {} } } } },
    });
    const identity: string = created.json().id;
    const event: TopicUnsubscribed = {
      id: randomUUID(),
      identity,
      topic: "outbreak/ke/nairobi",
      channel: "email",
      method: "one-click",
      at: new Date().toISOString(),
    };
    // Delivered twice, as after a redelivery: recorded once.
    await svc.broker.publish("topic.unsubscribed", event, { messageId: event.id });
    await svc.broker.publish("topic.unsubscribed", event, { messageId: event.id });
    await svc.broker.publish("topic.unsubscribed", {
      ...event,
      id: randomUUID(),
      topic: null,
      method: "link",
    });

    const entries = await waitFor(
      async () => {
        const rows = await ledger(svc, identity);
        return rows.length >= 2 && rows;
      },
      { timeoutMs: 30_000, what: "two ledger entries" },
    );
    expect(entries).toHaveLength(2);
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: "unsubscribe",
          scope: "topic",
          topic: "outbreak/ke/nairobi",
          channel: "email",
          source: "unsubscribe:one-click",
        }),
        expect.objectContaining({
          kind: "unsubscribe",
          scope: "all",
          topic: null,
          source: "unsubscribe:link",
        }),
      ]),
    );
    const optouts = await waitFor(
      () => {
        const o = capture.named<OptOutCreated>("optout.created").filter((x) => x.identity === identity);
        return o.length === 2 && o;
      },
      { timeoutMs: 30_000 },
    );
    expect(optouts.map((o) => o.topic).sort()).toEqual(["outbreak/ke/nairobi", null].sort());
  });

  it("drops an event for an identity that does not exist", async ({ svc, capture }) => {
    const missing = randomUUID();
    await svc.broker.publish("topic.unsubscribed", {
      id: randomUUID(),
      identity: missing,
      topic: "x",
      channel: "email",
      method: "link",
      at: new Date().toISOString(),
    });
    // Followed by one that records: by the time it is in, the first has almost surely been handled.
    const created = await svc.app.inject({
      method: "POST",
      url: "/api/v1/identities/",
      headers: adminAuth,
      payload: { details: { addresses: { msisdn: { "+27820009999": {} } } } },
    });
    const identity: string = created.json().id;
    await svc.broker.publish("topic.unsubscribed", {
      id: randomUUID(),
      identity,
      topic: "y",
      channel: "msisdn",
      method: "link",
      at: new Date().toISOString(),
    });
    await waitFor(async () => (await ledger(svc, identity)).length === 1, { timeoutMs: 30_000 });
    expect(capture.named<OptOutCreated>("optout.created").some((o) => o.identity === missing)).toBe(false);
  });
});
