/** `POST /api/v1/outbound/resend/` on the Twilio simulator: by ids and by filter, consent, who may resend. */
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { catalog, type OutboundDeliveryReport } from "@tidings/contracts";
import { startTwilioSimulator, type TwilioSimulator } from "@tidings/provider-simulators";
import { adminAuth, expectError, serviceTest, type TestService, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import type { MessageSenderConfig } from "../src/config.ts";
import { addressHash } from "../src/consent/consent.ts";
import type { Db } from "../src/db.ts";
import { createMessageSenderService } from "../src/service.ts";
import {
  address,
  callWithKey,
  createTwilioChannel,
  historyOf,
  identityEvent,
  issueKey,
  msisdn,
  outboundReaching,
} from "./helpers.ts";

const SID = `AC${"7".repeat(32)}`;
const TOKEN = "resend-auth-token";

type Svc = TestService<MessageSenderConfig, Db>;

const it = serviceTest(createMessageSenderService(), { worker: true, env: { DUE_POLL_INTERVAL_MS: "100" } }, [
  "outbound.delivery_report",
]).extend<{ sim: TwilioSimulator }>({
  sim: [
    async ({ svc }, use) => {
      const sim = await startTwilioSimulator({ accounts: { [SID]: TOKEN }, callbackIntervalMs: 10 });
      await svc.app.listen({ port: 0, host: "127.0.0.1" });
      const base = `http://127.0.0.1:${(svc.app.server.address() as AddressInfo).port}`;
      await createTwilioChannel(
        svc.app,
        "TW",
        { sid: SID, token: TOKEN, url: sim.url },
        { status_callback: base },
        { default: true },
      );
      await use(sim);
      await sim.close();
    },
    { scope: "file", auto: true },
  ],
});

/** An identity with one number, in the address book. */
async function person(svc: Svc): Promise<{ identity: string; to: string }> {
  const to = msisdn();
  const event = identityEvent([address("msisdn", to, { default: true })]);
  await svc.broker.publish("identity.created", event);
  await waitFor(
    async () => (await svc.db.addressBookEntry.findUnique({ where: { identity: event.id } })) !== null,
    {
      what: "the identity in the address book",
    },
  );
  return { identity: event.id, to };
}

const post = (svc: Svc, url: string, payload: object, headers: Record<string, string> = adminAuth) =>
  svc.app.inject({ method: "POST", url, headers, payload });

const send = async (svc: Svc, body: object) => {
  const res = await post(svc, "/api/v1/outbound/", { content: "Your clinic visit", metadata: {}, ...body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
};

/** An outbound to `identity` that Twilio reports undelivered for good (30005, unknown handset). */
async function failedTo(svc: Svc, sim: TwilioSimulator, { identity, to }: { identity: string; to: string }) {
  sim.script(to, [{ status: "undelivered", errorCode: 30005 }]);
  const id = await send(svc, { to_identity: identity });
  await outboundReaching(svc.db, id, "failed");
  return id;
}

describe("resending outbounds", () => {
  it("resends failed and expired outbounds by id as new attempts of the same outbounds", async ({
    svc,
    sim,
    capture,
  }) => {
    const someone = await person(svc);
    const failed = await failedTo(svc, sim, someone);
    const delivered = await send(svc, { to_addr: msisdn() });
    await outboundReaching(svc.db, delivered, "delivered");
    const notBefore = new Date(Date.now() + 60_000).toISOString();
    const expired = await send(svc, { to_identity: someone.identity, not_before: notBefore, ttl_seconds: 1 });
    await outboundReaching(svc.db, expired, "expired");
    const unknown = randomUUID();

    const res = await post(svc, "/api/v1/outbound/resend/", { ids: [failed, delivered, expired, unknown] });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toEqual({
      counts: { resent: 2, not_resendable: 1, not_found: 1 },
      results: expect.arrayContaining([
        { id: failed, outcome: "resent" },
        { id: expired, outcome: "resent" },
        { id: delivered, outcome: "not_resendable" },
        { id: unknown, outcome: "not_found" },
      ]),
      truncated: false,
    });
    const [first] = sim.messages.filter((m) => m.to === someone.to);
    expect(await outboundReaching(svc.db, failed, "delivered")).toMatchObject({
      attempts: 2,
      attemptBase: 1,
    });
    // The expired one went out once resent: its expiry was lifted.
    expect(await outboundReaching(svc.db, expired, "delivered")).toMatchObject({
      attempts: 1,
      expiresAt: null,
    });
    const steps = await historyOf(svc.db, failed);
    expect(steps.map((s) => s.status)).toEqual(["submitted", "failed", "queued", "submitted", "delivered"]);
    expect(steps[2]).toMatchObject({ provider_id: first!.sid, reason: "resent" });
    await waitFor(
      () =>
        capture
          .named<OutboundDeliveryReport>("outbound.delivery_report")
          .filter((r) => r.outbound_id === failed).length === 2,
      { what: "both results of the failed outbound" },
    );
    expect(sim.messages.filter((m) => m.to === someone.to)).toHaveLength(3);
  });

  it("resends by a filter, and not to an address that opted out", async ({ svc, sim }) => {
    const since = new Date().toISOString();
    const [kept, stopped] = [await person(svc), await person(svc)];
    const keptIds = [await failedTo(svc, sim, kept), await failedTo(svc, sim, kept)];
    const stoppedId = await failedTo(svc, sim, stopped);
    await svc.broker.publish("optout.created", {
      ...catalog["optout.created"].example,
      id: randomUUID(),
      created_at: new Date().toISOString(),
      optout_type: "stop",
      address: stopped.to,
    });
    await waitFor(
      async () =>
        (
          await svc.db.optedOutAddress.findUnique({
            where: { addressHash: new Uint8Array(addressHash(stopped.to)) },
          })
        )?.optedOut === true,
      { what: "the opt-out" },
    );

    const byFilter = (filter: object) => post(svc, "/api/v1/outbound/resend/", { filter });
    const resent = await byFilter({ status: "failed", to_identity: kept.identity, created_at__gte: since });
    expect(resent.statusCode, resent.body).toBe(202);
    expect(resent.json().counts).toEqual({ resent: 2 });
    for (const id of keptIds) {
      expect(await outboundReaching(svc.db, id, "delivered")).toMatchObject({ attempts: 2 });
    }
    const refused = await byFilter({ to_identity: stopped.identity, created_at__gte: since });
    expect(refused.json()).toMatchObject({
      counts: { opted_out: 1 },
      results: [{ id: stoppedId, outcome: "opted_out" }],
    });
    // A range that excludes them takes nothing.
    const none = await byFilter({ to_identity: kept.identity, created_at__lt: since });
    expect(none.json()).toMatchObject({ counts: {}, results: [] });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id: stoppedId } })).toMatchObject({
      status: "failed",
      attempts: 1,
    });
    expect(sim.requests.filter((r) => r.To === stopped.to)).toHaveLength(1);
  });

  it("lets the key that created an outbound resend it, and no other non-admin key", async ({ svc, sim }) => {
    const someone = await person(svc);
    const [owner, other] = [await issueKey(svc, "live"), await issueKey(svc, "live")];
    sim.script(someone.to, [{ status: "undelivered", errorCode: 30005 }]);
    const created = await callWithKey(svc, owner, "POST", "/api/v1/outbound/", {
      to_identity: someone.identity,
      content: "x",
      metadata: {},
    });
    const { id } = created.json();
    await outboundReaching(svc.db, id, "failed");
    const byOther = await callWithKey(svc, other, "POST", "/api/v1/outbound/resend/", { ids: [id] });
    expect(byOther.json()).toMatchObject({ counts: { not_found: 1 } });
    const byOwner = await callWithKey(svc, owner, "POST", "/api/v1/outbound/resend/", { ids: [id] });
    expect(byOwner.json()).toMatchObject({ counts: { resent: 1 } });
    await outboundReaching(svc.db, id, "delivered");
  });

  it("never resends a redacted outbound: nothing is left to send", async ({ svc, sim }) => {
    const someone = await person(svc);
    const id = await failedTo(svc, sim, someone);
    const redacted = await svc.app.inject({
      method: "DELETE",
      url: `/api/v1/outbound/${id}/`,
      headers: adminAuth,
    });
    expect(redacted.statusCode, redacted.body).toBe(204);
    const res = await post(svc, "/api/v1/outbound/resend/", { ids: [id] });
    expect(res.json()).toEqual({
      counts: { redacted: 1 },
      results: [{ id, outcome: "redacted" }],
      truncated: false,
    });
    expect(
      (await post(svc, "/api/v1/outbound/resend/", { filter: { status: "failed" } })).json().results,
    ).not.toContainEqual({ id, outcome: "resent" });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id } })).toMatchObject({
      status: "failed",
      content: null,
    });
    expect(sim.messages.filter((m) => m.to === someone.to)).toHaveLength(1);
  });

  it("needs exactly one of ids and filter", async ({ svc }) => {
    for (const body of [{}, { ids: [randomUUID()], filter: { status: "failed" } }]) {
      const res = await post(svc, "/api/v1/outbound/resend/", body);
      expectError(res, 400, "VALIDATION_FAILED");
    }
  });
});
