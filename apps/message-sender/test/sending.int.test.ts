import { randomUUID } from "node:crypto";
import { adminAuth, expectError, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { AddressBookReader, forgetIdentity, recordIdentity } from "../src/recipients/address-book.ts";
import { address, identityEvent, msisdn, statusesOf, waitForIdle } from "./helpers.ts";
import { addToBook, finalOutbound, post, sendingTest, waitForEvents } from "./support.ts";

// Sending to an address and to an identity (sending an id once, and failures: sending-idempotency.int.test.ts).
const it = sendingTest();

describe("sending to to_addr", () => {
  it("submits once, is delivered, wipes to_addr, and publishes submitted/delivered/delivery_report in order", async ({
    svc,
    capture,
    sendsOf,
  }) => {
    const to = msisdn();
    const created = (await post(svc, { to_addr: to, content: "Your code is 1234", metadata: {} })).json();
    const outbound = await finalOutbound(svc, created.id);
    expect(outbound).toMatchObject({
      status: "delivered",
      delivered: true,
      to_addr: "",
      attempts: 1,
      provider_id: expect.stringMatching(/^log-/),
      last_error: null,
    });
    expect(sendsOf(created.id)).toEqual([{ id: created.id, channel: "LOG", address: to }]);

    const send = capture.messages.find((m) => m.name === "outbound.send" && m.messageId === created.id);
    expect(send?.payload).toMatchObject({ id: created.id, to_addr: to });

    const events = await waitForEvents(capture, created.id, 3);
    expect(events.map((e) => e.name)).toEqual([
      "outbound.submitted",
      "outbound.delivered",
      "outbound.delivery_report",
    ]);
    const changed = {
      id: created.id,
      to_identity: null,
      channel: "LOG",
      provider_id: outbound.provider_id,
      priority: "normal",
    };
    expect(events.map((e) => e.payload)).toEqual([
      { ...changed, status: "submitted", reason: null, at: expect.any(String) },
      { ...changed, status: "delivered", reason: null, at: expect.any(String) },
      {
        outbound_id: created.id,
        identity: null,
        delivered: true,
        status: "delivered",
        reason: null,
        at: expect.any(String),
      },
    ]);
    expect(await statusesOf(svc.db, created.id)).toEqual(["submitted", "delivered"]);
  });
});

describe("sending to to_identity through the address book", () => {
  it("picks the default address of default_addr_type, skipping opted-out and inactive ones", async ({
    svc,
    sendsOf,
  }) => {
    const wanted = msisdn();
    const identity = identityEvent([
      address("msisdn", msisdn()),
      address("msisdn", wanted, { default: true }),
      address("email", "a@example.org", { default: true }),
    ]);
    const optedOutDefault = identityEvent([
      address("msisdn", msisdn(), { default: true, optedout: true }),
      address("msisdn", msisdn(), { inactive: true }),
      address("msisdn", wanted),
    ]);
    const byEmail = identityEvent(
      [address("msisdn", msisdn(), { default: true }), address("email", "b@example.org")],
      { default_addr_type: "email" },
    );
    for (const event of [identity, optedOutDefault, byEmail]) {
      await addToBook(svc, event, "identity.created");
    }
    const expected = [
      [identity.id, wanted],
      [optedOutDefault.id, wanted],
      [byEmail.id, "b@example.org"],
    ] as const;
    for (const [id, to] of expected) {
      const created = (await post(svc, { to_identity: id, content: "Hi", metadata: {} })).json();
      expect(await finalOutbound(svc, created.id)).toMatchObject({ status: "delivered", to_identity: id });
      expect(sendsOf(created.id).map((s) => s.address)).toEqual([to]);
    }
  });

  it("reads the entries asked for in the same turn in one statement, each read after it was asked", async ({
    svc,
  }) => {
    const carer = identityEvent([address("msisdn", msisdn(), { default: true })]);
    const people = [
      carer,
      ...Array.from({ length: 4 }, () => identityEvent([address("msisdn", msisdn(), { default: true })])),
      identityEvent([address("email", "baby@example.org")], { communicate_through: carer.id }),
    ];
    for (const person of people) {
      await recordIdentity(svc.db, person);
    }
    await svc.db
      .$executeRaw`UPDATE address_book_entry SET forgotten_at = now() WHERE identity = ${people[1]?.id}::uuid`;
    await svc.db.stoppedIdentity.create({
      data: { identity: people[2]?.id as string, stopped: true, changedAt: new Date() },
    });
    const reader = new AddressBookReader(svc.db);
    const unknown = randomUUID();
    const entries = await Promise.all([...people.map((p) => reader.entry(p.id)), reader.entry(unknown)]);
    expect(entries).toEqual([
      ...people.map((p, i) => ({
        forgotten: i === 1,
        addresses: p.addresses,
        defaultAddrType: "msisdn",
        communicateThrough: i === 5 ? carer.id : null,
        stopped: i === 2,
      })),
      null,
    ]);
    expect(reader.statements).toBe(1);
    // A later read sees a later change.
    await forgetIdentity(svc.db, carer.id);
    expect(await reader.entry(carer.id)).toMatchObject({ addresses: [], defaultAddrType: null });
    expect(reader.statements).toBe(2);
  });

  it("follows communicate_through to the other identity's address", async ({ svc, sendsOf }) => {
    const carer = msisdn();
    const through = identityEvent([address("msisdn", carer, { default: true })]);
    const baby = identityEvent([address("msisdn", msisdn(), { default: true })], {
      communicate_through: through.id,
    });
    await addToBook(svc, through, "identity.created");
    await addToBook(svc, baby, "identity.created");
    const created = (await post(svc, { to_identity: baby.id, metadata: {} })).json();
    expect(await finalOutbound(svc, created.id)).toMatchObject({ status: "delivered" });
    expect(sendsOf(created.id).map((s) => s.address)).toEqual([carer]);
  });

  it("fails an identity with no usable address: outbound.failed and a delivery report delivered:false", async ({
    svc,
    capture,
    sendsOf,
  }) => {
    // (one whose numbers are all opted out fails as opted_out instead: consent.int.test.ts)
    const identity = identityEvent([
      address("msisdn", msisdn(), { default: true, inactive: true }),
      address("msisdn", msisdn(), { inactive: true }),
      address("email", "c@example.org", { default: true }),
    ]);
    await addToBook(svc, identity, "identity.created");
    const created = (await post(svc, { to_identity: identity.id, metadata: {} })).json();
    expect(await finalOutbound(svc, created.id)).toMatchObject({
      status: "failed",
      delivered: false,
      attempts: 0,
      provider_id: null,
      last_error: "no address",
    });
    expect(sendsOf(created.id)).toEqual([]);
    const events = await waitForEvents(capture, created.id, 2);
    expect(events.map((e) => [e.name, e.payload])).toEqual([
      [
        "outbound.failed",
        expect.objectContaining({ status: "failed", reason: "no address", to_identity: identity.id }),
      ],
      [
        "outbound.delivery_report",
        expect.objectContaining({
          identity: identity.id,
          delivered: false,
          status: "failed",
          reason: "no address",
        }),
      ],
    ]);
  });

  it("keeps the newest addresses when an older event arrives late", async ({ svc, sendsOf }) => {
    const newer = msisdn();
    const created = identityEvent([address("msisdn", msisdn(), { default: true })], {
      updated_at: "2026-01-05T09:00:00.000Z",
    });
    const updated = {
      ...created,
      addresses: [address("msisdn", newer, { default: true })],
      updated_at: "2026-01-05T10:00:00.000Z",
    };
    await addToBook(svc, updated, "identity.updated");
    await svc.broker.publish("identity.created", created);
    await waitForIdle(svc.broker, "message-sender.address-book");
    const outbound = (await post(svc, { to_identity: created.id, metadata: {} })).json();
    expect(await finalOutbound(svc, outbound.id)).toMatchObject({ status: "delivered" });
    expect(sendsOf(outbound.id).map((s) => s.address)).toEqual([newer]);
  });

  it("forgets a deleted identity for good: a late identity.created does not bring it back", async ({
    svc,
  }) => {
    const identity = identityEvent([address("msisdn", msisdn(), { default: true })]);
    await addToBook(svc, identity, "identity.created");
    await svc.broker.publish("identity.deleted", { id: identity.id });
    await waitFor(
      async () => (await svc.db.addressBookEntry.findUnique({ where: { identity: identity.id } }))?.deleted,
    );
    await svc.broker.publish("identity.updated", { ...identity, updated_at: new Date().toISOString() });
    await waitForIdle(svc.broker, "message-sender.address-book");
    const entry = await svc.db.addressBookEntry.findUniqueOrThrow({ where: { identity: identity.id } });
    expect(entry).toMatchObject({ deleted: true, addresses: [] });
    const created = (await post(svc, { to_identity: identity.id, metadata: {} })).json();
    expect(await finalOutbound(svc, created.id)).toMatchObject({
      status: "failed",
      last_error: "no address",
    });
  });

  it("retries an outbound whose identity is not in the book yet, and sends it once the identity arrives", async ({
    svc,
    sendsOf,
  }) => {
    const to = msisdn();
    const identity = identityEvent([address("msisdn", to, { default: true })]);
    const created = (await post(svc, { to_identity: identity.id, metadata: {} })).json();
    const waiting = await waitFor(
      async () => {
        const row = await svc.db.outbound.findUniqueOrThrow({ where: { id: created.id } });
        return row.lastError?.includes("not in the address book") && row;
      },
      { what: "a first attempt that found no identity" },
    );
    expect(waiting).toMatchObject({ status: "queued", claimedUntil: null });
    await svc.broker.publish("identity.created", identity);
    expect(await finalOutbound(svc, created.id)).toMatchObject({
      status: "delivered",
      attempts: 1,
      last_error: null,
    });
    expect(sendsOf(created.id).map((s) => s.address)).toEqual([to]);
  });
});

describe("the scheduler schedule that created an outbound", () => {
  it("is stored from outbound.send's created_by_schedule and shown read-only; API sends have none", async ({
    svc,
  }) => {
    const id = randomUUID();
    const schedule = randomUUID();
    await svc.broker.publish("outbound.send", {
      id,
      to_addr: msisdn(),
      content: "Clinic day",
      metadata: {},
      created_by_schedule: schedule,
    });
    expect(await finalOutbound(svc, id)).toMatchObject({
      status: "delivered",
      created_by_schedule: schedule,
    });

    const direct = (await post(svc, { to_addr: msisdn(), content: "Direct", metadata: {} })).json();
    expect(await finalOutbound(svc, direct.id)).toMatchObject({
      status: "delivered",
      created_by_schedule: null,
    });
    const forged = await post(svc, {
      to_addr: msisdn(),
      content: "x",
      metadata: {},
      created_by_schedule: schedule,
    });
    expectError(forged, 400, "VALIDATION_FAILED");
  });
});

describe("the subscription and message an outbound is", () => {
  it("is stored from outbound.send's created_by_subscription and sequence_number, answered, kept by a redaction, and filtered on", async ({
    svc,
  }) => {
    const person = identityEvent([address("msisdn", msisdn(), { default: true })]);
    await addToBook(svc, person, "identity.created");
    const [subscription, other] = [randomUUID(), randomUUID()];
    const week12 = randomUUID();
    const otherSend = randomUUID();
    await svc.broker.publish("outbound.send", {
      id: week12,
      to_identity: person.id,
      content: "Week 12: your baby can hear you",
      metadata: {},
      priority: "bulk",
      created_by_subscription: subscription,
      sequence_number: 12,
    });
    await svc.broker.publish("outbound.send", {
      id: otherSend,
      to_identity: person.id,
      content: "Welcome to baby messages",
      metadata: {},
      created_by_subscription: other,
      sequence_number: 1,
    });
    const origin = { created_by_subscription: subscription, sequence_number: 12 };
    expect(await finalOutbound(svc, week12)).toMatchObject({ status: "delivered", ...origin });
    expect(await finalOutbound(svc, otherSend)).toMatchObject({
      created_by_subscription: other,
      sequence_number: 1,
    });
    const direct = (await post(svc, { to_identity: person.id, content: "Direct", metadata: {} })).json();
    expect(direct).toMatchObject({ created_by_subscription: null, sequence_number: null });
    expect(await finalOutbound(svc, direct.id)).toMatchObject({
      status: "delivered",
      created_by_subscription: null,
      sequence_number: null,
    });

    // The helpdesk's list of a person's messages says which is which.
    const messages = await svc.app.inject({
      url: `/api/v1/identities/${person.id}/messages/`,
      headers: adminAuth,
    });
    expect(
      messages
        .json()
        .results.map((m: Record<string, unknown>) => [m.id, m.created_by_subscription, m.sequence_number]),
    ).toEqual(
      expect.arrayContaining([
        [week12, subscription, 12],
        [otherSend, other, 1],
        [direct.id, null, null],
      ]),
    );

    // Not personal data: a redaction keeps them (and the filter still finds the tombstone).
    const redacted = await svc.app.inject({
      method: "DELETE",
      url: `/api/v1/outbound/${week12}/`,
      headers: adminAuth,
    });
    expect(redacted.statusCode).toBe(204);
    expect((await finalOutbound(svc, week12)).content).toBeNull();

    const listed = async (query: string) => {
      const res = await svc.app.inject({ url: `/api/v1/outbound/?${query}`, headers: adminAuth });
      expect(res.statusCode, query).toBe(200);
      return res.json().results as Record<string, unknown>[];
    };
    const ofSubscription = await listed(`created_by_subscription=${subscription}`);
    expect(ofSubscription).toEqual([
      expect.objectContaining({ id: week12, redacted: true, content: null, ...origin }),
    ]);
    expect((await listed(`created_by_subscription=${other}`)).map((o) => o.id)).toEqual([otherSend]);
    expect(await listed(`created_by_subscription=${randomUUID()}`)).toEqual([]);
    expect(
      (await listed(`to_identity=${person.id}&created_by_subscription=${other}`)).map((o) => o.id),
    ).toEqual([otherSend]);

    const bad = await svc.app.inject({
      url: "/api/v1/outbound/?created_by_subscription=week-12",
      headers: adminAuth,
    });
    expectError(bad, 400, "VALIDATION_FAILED");
    const forged = await post(svc, { to_addr: msisdn(), content: "x", metadata: {}, ...origin });
    expectError(forged, 400, "VALIDATION_FAILED");
  });
});
