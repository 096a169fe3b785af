import { randomUUID } from "node:crypto";
import type { IdentityMaxFailures } from "@tidings/contracts";
import {
  type Capture,
  closeAfter,
  type HttpReceiver,
  serviceTest,
  startHttpReceiver,
  waitFor,
} from "@tidings/testing";
import { describe, expect } from "vitest";
import { identityService } from "../src/service.ts";
import { create, msisdn, type Svc, send } from "./helpers.ts";

const it = serviceTest(
  identityService,
  {
    worker: true,
    env: { MAX_CONSECUTIVE_SEND_FAILURES: "3", HOOK_RETRY_BASE_MS: "20", HOOK_POLL_INTERVAL_MS: "20" },
  },
  ["identity.max_failures"],
).extend<{ hub: HttpReceiver }>({
  // A hub with a REST hook for identity.max_failures, registered by the admin.
  hub: [
    async ({ svc }, use) => {
      const hub = await startHttpReceiver();
      const hook = await send(svc, "POST", "/api/v1/webhook/", {
        event: "identity.max_failures",
        target: `${hub.url}/max-failures`,
      });
      expect(hook.statusCode, hook.body).toBe(201);
      await closeAfter(hub, use);
    },
    { scope: "file" },
  ],
});

const failures = async (svc: Svc, id: string) =>
  (await svc.db.identity.findUniqueOrThrow({ where: { id } })).failedMessageCount;
const report = (svc: Svc, identity: string | null, delivered: boolean, messageId = randomUUID()) =>
  svc.broker.publish(
    "outbound.delivery_report",
    {
      outbound_id: randomUUID(),
      identity,
      delivered,
      status: delivered ? "delivered" : "failed",
      reason: null,
      at: new Date().toISOString(),
    },
    { messageId },
  );
const crossings = (capture: Capture, id: string) =>
  capture.named<IdentityMaxFailures>("identity.max_failures").filter((e) => e.identity_id === id);

describe("outbound.delivery_report consumer", () => {
  it("counts failures, resets on a delivery, and emits max_failures once per crossing", async ({
    svc,
    capture,
  }) => {
    const identity = await create(svc, { details: { addresses: { msisdn: { [msisdn(20)]: {} } } } });
    for (let i = 1; i <= 4; i++) {
      await report(svc, identity.id, false);
      await waitFor(async () => (await failures(svc, identity.id)) === i, { what: `failure ${i}` });
    }
    await waitFor(() => crossings(capture, identity.id).length === 1, { what: "first crossing" });
    expect(crossings(capture, identity.id)[0]).toEqual({ identity_id: identity.id, failure_count: 3 });
    await report(svc, identity.id, true);
    await waitFor(async () => (await failures(svc, identity.id)) === 0, { what: "reset" });
    for (let i = 1; i <= 3; i++) {
      await report(svc, identity.id, false);
    }
    await waitFor(async () => (await failures(svc, identity.id)) === 3, { what: "second crossing count" });
    await waitFor(() => crossings(capture, identity.id).length === 2, { what: "second crossing" });
    await new Promise((r) => setTimeout(r, 300));
    expect(crossings(capture, identity.id)).toHaveLength(2);
  });

  it("a redelivered report (same message id) counts once", async ({ svc }) => {
    const identity = await create(svc, { details: { addresses: {} } });
    const messageId = randomUUID();
    await report(svc, identity.id, false, messageId);
    await report(svc, identity.id, false, messageId);
    await report(svc, identity.id, false);
    await waitFor(async () => (await failures(svc, identity.id)) === 2, { what: "two failures" });
    await new Promise((r) => setTimeout(r, 300));
    expect(await failures(svc, identity.id)).toBe(2);
  });
});

describe("the identity.max_failures REST hook", () => {
  it("reaches a hook once per crossing, from delivery reports and from Seed's message_count", async ({
    svc,
    hub,
  }) => {
    const hookBodies = (id: string) =>
      hub.received
        .map((r) => JSON.parse(r.body) as { hook: { event: string }; data: { identity_id: string } })
        .filter((b) => b.data.identity_id === id);
    const reported = await create(svc, { details: { addresses: {} } });
    for (let i = 1; i <= 4; i++) {
      await report(svc, reported.id, false);
    }
    await waitFor(async () => (await failures(svc, reported.id)) === 4, { what: "four failures" });
    const [first] = await waitFor(
      () => (hookBodies(reported.id).length ? hookBodies(reported.id) : undefined),
      {
        what: "identity.max_failures at the hub",
      },
    );
    expect(first).toMatchObject({
      hook: { event: "identity.max_failures", target: `${hub.url}/max-failures` },
      data: { identity_id: reported.id, failure_count: 3 },
    });

    // Seed's receiver, called with the admin token (as message-sender's hook does): every hook of the event.
    const counted = await create(svc, { details: { addresses: {} } });
    for (let i = 0; i < 3; i++) {
      await send(svc, "POST", "/api/v1/identities/message_count/", {
        data: { identity: counted.id, delivered: false },
      });
    }
    await waitFor(() => hookBodies(counted.id).length === 1, { what: "max_failures from message_count" });
    await new Promise((r) => setTimeout(r, 300));
    expect(hookBodies(reported.id)).toHaveLength(1);
    expect(hookBodies(counted.id)).toHaveLength(1);
  });
});

describe("POST /api/v1/identities/message_count/ (Seed receiver)", () => {
  it("increments by identity or by to_addr and resets on delivered", async ({ svc }) => {
    const a = msisdn(21);
    const identity = await create(svc, { details: { addresses: { msisdn: { [a]: {} } } } });
    const byId = await send(svc, "POST", "/api/v1/identities/message_count/", {
      hook: { id: 1, event: "outbound.delivery_report", target: "http://x" },
      data: { identity: identity.id, delivered: false, outbound_id: "extra fields are fine" },
    });
    expect(byId.statusCode).toBe(200);
    expect(byId.json()).toEqual({ identity: identity.id, failed_message_count: 1 });
    const byAddr = await send(svc, "POST", "/api/v1/identities/message_count/", {
      data: { to_addr: a, delivered: "false" },
    });
    expect(byAddr.json().failed_message_count).toBe(2);
    expect(await failures(svc, identity.id)).toBe(2);
    const ok = await send(svc, "POST", "/api/v1/identities/message_count/", {
      data: { identity: identity.id, delivered: true },
    });
    expect(ok.json().failed_message_count).toBe(0);
    expect(await failures(svc, identity.id)).toBe(0);
  });

  it("answers 400 with Seed's messages", async ({ svc }) => {
    const noData = await send(svc, "POST", "/api/v1/identities/message_count/", { hook: {} });
    expect(noData.statusCode).toBe(400);
    expect(noData.json().error.message).toBe('"data" must be supplied');
    const noKey = await send(svc, "POST", "/api/v1/identities/message_count/", {
      data: { delivered: false },
    });
    expect(noKey.statusCode).toBe(400);
    expect(noKey.json().error.message).toBe('"data" must contain either "identity" or "to_addr" keys');
    const unknown = await send(svc, "POST", "/api/v1/identities/message_count/", {
      data: { to_addr: msisdn(21), delivered: false },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.message).toBe("No identity found for given address");
  });
});
