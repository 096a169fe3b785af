import { randomUUID } from "node:crypto";
import type { OutboundDeliveryReport, OutboundSend, OutboundStatusChanged } from "@tidings/contracts";
import {
  adminAuth,
  type Capture,
  captureMessages,
  startTestService,
  type TestService,
  waitFor,
} from "@tidings/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LogChannel } from "../src/channels/log/adapter.ts";
import type { MessageSenderConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { type Channel, PermanentSendError } from "../src/outbound/channel.ts";
import { createMessageSenderService } from "../src/service.ts";
import { address, identityEvent, msisdn, waitForIdle } from "./helpers.ts";

/** Every call of a channel's send, across the channels below: what was sent where. */
const sends: { id: string; channel: string; address: string }[] = [];
const sendsOf = (id: string) => sends.filter((s) => s.id === id);

const recording = (name: string, channel: Channel): Channel => ({
  send: (outbound, to) => {
    sends.push({ id: outbound.id, channel: name, address: to });
    return channel.send(outbound, to);
  },
});

/** Fails the first send of each outbound as a provider outage would, then sends through the log channel. */
const flaky = (log: Channel): Channel => {
  const failed = new Set<string>();
  return {
    send: async (outbound, to) => {
      if (!failed.has(outbound.id)) {
        failed.add(outbound.id);
        throw new Error(`provider timed out sending to ${to}`);
      }
      return log.send(outbound, to);
    },
  };
};

const service = createMessageSenderService({
  channels: (logger) => {
    const log = new LogChannel(logger);
    return {
      LOG: recording("LOG", log),
      FLAKY: recording("FLAKY", flaky(log)),
      REJECTING: recording("REJECTING", {
        send: async (_, to) => {
          throw new PermanentSendError(`rejected by the provider: ${to} is not a mobile number`);
        },
      }),
    };
  },
});

let svc: TestService<MessageSenderConfig, Db>;
let capture: Capture;

beforeAll(async () => {
  svc = await startTestService(service, {
    worker: true,
    env: { OUTBOUND_RETRY_DELAYS_MS: "100,300,1000,3000" },
  });
  capture = await captureMessages(svc.namespace, [
    "outbound.send",
    "outbound.submitted",
    "outbound.delivered",
    "outbound.failed",
    "outbound.delivery_report",
  ]);
});
afterAll(async () => {
  await capture?.stop();
  await svc?.close();
});

const post = (payload: Record<string, unknown>) =>
  svc.app.inject({ method: "POST", url: "/api/v1/outbound/", headers: adminAuth, payload });

const fetchOutbound = async (id: string) =>
  (await svc.app.inject({ url: `/api/v1/outbound/${id}/`, headers: adminAuth })).json();

const finalOutbound = (id: string) =>
  waitFor(
    async () => {
      const outbound = await fetchOutbound(id);
      return ["delivered", "failed"].includes(outbound.status) && outbound;
    },
    { what: `outbound ${id} to be final` },
  );

/** The status events and delivery reports of one outbound, in publish order. */
const eventsOf = (id: string) =>
  capture.messages
    .filter((m) => m.name !== "outbound.send")
    .filter((m) => {
      const p = m.payload as Partial<OutboundStatusChanged & OutboundDeliveryReport>;
      return p.id === id || p.outbound_id === id;
    });

const waitForEvents = (id: string, n: number) =>
  waitFor(() => eventsOf(id).length >= n && eventsOf(id), { what: `${n} events of ${id}` });

/** Publishes an identity event and waits until the address book holds it. */
async function addToBook(
  event: ReturnType<typeof identityEvent>,
  name: "identity.created" | "identity.updated",
) {
  await svc.broker.publish(name, event);
  await waitFor(
    async () => {
      const entry = await svc.db.addressBookEntry.findUnique({ where: { identity: event.id } });
      return entry?.identityUpdatedAt.toISOString() === event.updated_at;
    },
    { what: `address book entry for ${event.id}` },
  );
}

describe("sending to to_addr", () => {
  it("submits once, is delivered, wipes to_addr, and publishes submitted/delivered/delivery_report in order", async () => {
    const to = msisdn();
    const created = (await post({ to_addr: to, content: "Your code is 1234", metadata: {} })).json();
    const outbound = await finalOutbound(created.id);
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

    const events = await waitForEvents(created.id, 3);
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
    const history = await svc.db.outboundEvent.findMany({
      where: { outboundId: created.id },
      orderBy: { id: "asc" },
    });
    expect(history.map((h) => h.status)).toEqual(["submitted", "delivered"]);
  });
});

describe("sending to to_identity through the address book", () => {
  it("picks the default address of default_addr_type, skipping opted-out and inactive ones", async () => {
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
      await addToBook(event, "identity.created");
    }
    const expected = [
      [identity.id, wanted],
      [optedOutDefault.id, wanted],
      [byEmail.id, "b@example.org"],
    ] as const;
    for (const [id, to] of expected) {
      const created = (await post({ to_identity: id, content: "Hi", metadata: {} })).json();
      expect(await finalOutbound(created.id)).toMatchObject({ status: "delivered", to_identity: id });
      expect(sendsOf(created.id).map((s) => s.address)).toEqual([to]);
    }
  });

  it("follows communicate_through to the other identity's address", async () => {
    const carer = msisdn();
    const through = identityEvent([address("msisdn", carer, { default: true })]);
    const baby = identityEvent([address("msisdn", msisdn(), { default: true })], {
      communicate_through: through.id,
    });
    await addToBook(through, "identity.created");
    await addToBook(baby, "identity.created");
    const created = (await post({ to_identity: baby.id, metadata: {} })).json();
    expect(await finalOutbound(created.id)).toMatchObject({ status: "delivered" });
    expect(sendsOf(created.id).map((s) => s.address)).toEqual([carer]);
  });

  it("fails an identity with no usable address: outbound.failed and a delivery report delivered:false", async () => {
    // (one whose numbers are all opted out fails as opted_out instead: consent.int.test.ts)
    const identity = identityEvent([
      address("msisdn", msisdn(), { default: true, inactive: true }),
      address("msisdn", msisdn(), { inactive: true }),
      address("email", "c@example.org", { default: true }),
    ]);
    await addToBook(identity, "identity.created");
    const created = (await post({ to_identity: identity.id, metadata: {} })).json();
    expect(await finalOutbound(created.id)).toMatchObject({
      status: "failed",
      delivered: false,
      attempts: 0,
      provider_id: null,
      last_error: "no address",
    });
    expect(sendsOf(created.id)).toEqual([]);
    const events = await waitForEvents(created.id, 2);
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

  it("keeps the newest addresses when an older event arrives late", async () => {
    const newer = msisdn();
    const created = identityEvent([address("msisdn", msisdn(), { default: true })], {
      updated_at: "2026-01-05T09:00:00.000Z",
    });
    const updated = {
      ...created,
      addresses: [address("msisdn", newer, { default: true })],
      updated_at: "2026-01-05T10:00:00.000Z",
    };
    await addToBook(updated, "identity.updated");
    await svc.broker.publish("identity.created", created);
    await waitForIdle(svc.broker, "message-sender.address-book");
    const outbound = (await post({ to_identity: created.id, metadata: {} })).json();
    expect(await finalOutbound(outbound.id)).toMatchObject({ status: "delivered" });
    expect(sendsOf(outbound.id).map((s) => s.address)).toEqual([newer]);
  });

  it("forgets a deleted identity for good: a late identity.created does not bring it back", async () => {
    const identity = identityEvent([address("msisdn", msisdn(), { default: true })]);
    await addToBook(identity, "identity.created");
    await svc.broker.publish("identity.deleted", { id: identity.id });
    await waitFor(
      async () => (await svc.db.addressBookEntry.findUnique({ where: { identity: identity.id } }))?.deleted,
    );
    await svc.broker.publish("identity.updated", { ...identity, updated_at: new Date().toISOString() });
    await waitForIdle(svc.broker, "message-sender.address-book");
    const entry = await svc.db.addressBookEntry.findUniqueOrThrow({ where: { identity: identity.id } });
    expect(entry).toMatchObject({ deleted: true, addresses: [] });
    const created = (await post({ to_identity: identity.id, metadata: {} })).json();
    expect(await finalOutbound(created.id)).toMatchObject({ status: "failed", last_error: "no address" });
  });

  it("retries an outbound whose identity is not in the book yet, and sends it once the identity arrives", async () => {
    const to = msisdn();
    const identity = identityEvent([address("msisdn", to, { default: true })]);
    const created = (await post({ to_identity: identity.id, metadata: {} })).json();
    const waiting = await waitFor(
      async () => {
        const row = await svc.db.outbound.findUniqueOrThrow({ where: { id: created.id } });
        return row.lastError?.includes("not in the address book") && row;
      },
      { what: "a first attempt that found no identity" },
    );
    expect(waiting).toMatchObject({ status: "queued", claimedUntil: null });
    await svc.broker.publish("identity.created", identity);
    expect(await finalOutbound(created.id)).toMatchObject({
      status: "delivered",
      attempts: 1,
      last_error: null,
    });
    expect(sendsOf(created.id).map((s) => s.address)).toEqual([to]);
  });
});

describe("the scheduler schedule that created an outbound", () => {
  it("is stored from outbound.send's created_by_schedule and shown read-only; API sends have none", async () => {
    const id = randomUUID();
    const schedule = randomUUID();
    await svc.broker.publish("outbound.send", {
      id,
      to_addr: msisdn(),
      content: "Clinic day",
      metadata: {},
      created_by_schedule: schedule,
    });
    expect(await finalOutbound(id)).toMatchObject({ status: "delivered", created_by_schedule: schedule });

    const direct = (await post({ to_addr: msisdn(), content: "Direct", metadata: {} })).json();
    expect(await finalOutbound(direct.id)).toMatchObject({ status: "delivered", created_by_schedule: null });
    const forged = await post({
      to_addr: msisdn(),
      content: "x",
      metadata: {},
      created_by_schedule: schedule,
    });
    expect(forged.statusCode).toBe(400);
    expect(forged.json().error.code).toBe("VALIDATION_FAILED");
  });
});

describe("idempotency: one id is sent once", () => {
  it("sends an outbound.send published 5 times once, and ignores it again after delivery", async () => {
    // To an identity: after delivery to_addr is wiped, but the address book could still resolve it again.
    const identity = identityEvent([address("msisdn", msisdn(), { default: true })]);
    await addToBook(identity, "identity.created");
    const id = randomUUID();
    const command: OutboundSend = { id, to_identity: identity.id, content: "Once", metadata: {} };
    // Same id in the payload; the AMQP messageId repeats for some copies and not for others.
    await Promise.all([
      svc.broker.publish("outbound.send", command, { messageId: id }),
      svc.broker.publish("outbound.send", command, { messageId: id }),
      svc.broker.publish("outbound.send", command),
      svc.broker.publish("outbound.send", command),
      svc.broker.publish("outbound.send", command),
    ]);
    expect(await finalOutbound(id)).toMatchObject({ status: "delivered", attempts: 1 });
    await waitForIdle(svc.broker, "message-sender.outbound-send");
    // Again once delivered: redelivered, and republished with another body (the first one stored wins).
    await svc.broker.publish("outbound.send", command, { messageId: id });
    await svc.broker.publish("outbound.send", { ...command, content: "A different body" });
    await waitForIdle(svc.broker, "message-sender.outbound-send");

    expect(await fetchOutbound(id)).toMatchObject({ status: "delivered", attempts: 1, content: "Once" });
    expect(sendsOf(id)).toHaveLength(1);
    await waitForEvents(id, 3);
    expect(eventsOf(id).map((e) => e.name)).toEqual([
      "outbound.submitted",
      "outbound.delivered",
      "outbound.delivery_report",
    ]);
    expect(await svc.db.outboundEvent.count({ where: { outboundId: id, status: "submitted" } })).toBe(1);
  });

  it("sends an outbound whose claim was left by a crashed worker once that claim lapses", async () => {
    const id = randomUUID();
    const to = msisdn();
    const lapsesAt = new Date(Date.now() + 600);
    await svc.db.outbound.create({
      data: { id, toAddr: to, metadata: {}, claimedBy: "crashed-worker", claimedUntil: lapsesAt },
    });
    await svc.broker.publish("outbound.send", { id, to_addr: to, metadata: {} });
    expect(await finalOutbound(id)).toMatchObject({ status: "delivered", attempts: 1 });
    expect(sendsOf(id)).toHaveLength(1);
    const submitted = await svc.db.outboundEvent.findFirstOrThrow({
      where: { outboundId: id, status: "submitted" },
    });
    expect(submitted.at.getTime()).toBeGreaterThanOrEqual(lapsesAt.getTime());
    expect(submitted.detail).toMatchObject({ worker: svc.config.WORKER_ID });
  });

  it("stores and sends an outbound.send that has no API row (another service's command)", async () => {
    const id = randomUUID();
    await svc.broker.publish("outbound.send", {
      id,
      to_addr: msisdn(),
      metadata: { source: "subscription" },
    });
    expect(await finalOutbound(id)).toMatchObject({
      status: "delivered",
      channel: "LOG",
      metadata: { source: "subscription" },
      created_by: null,
    });
    expect(sendsOf(id)).toHaveLength(1);
  });
});

describe("recording a send", () => {
  it("retries a failed write of the send in place, without sending again", async () => {
    const id = randomUUID();
    // The first history insert for this outbound fails, as a dropped connection or a deadlock would.
    // (nextval is not rolled back with the transaction, so only the first insert fails.)
    await svc.db.$executeRawUnsafe("CREATE SEQUENCE record_failures");
    await svc.db.$executeRawUnsafe(`
      CREATE FUNCTION fail_first_record() RETURNS trigger AS $$ BEGIN
        IF NEW.outbound_id = '${id}' AND nextval('record_failures') = 1 THEN
          RAISE EXCEPTION 'injected failure';
        END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`);
    await svc.db.$executeRawUnsafe(
      "CREATE TRIGGER fail_first_record BEFORE INSERT ON outbound_event FOR EACH ROW EXECUTE FUNCTION fail_first_record()",
    );
    try {
      await svc.broker.publish("outbound.send", { id, to_addr: msisdn(), metadata: {} });
      expect(await finalOutbound(id)).toMatchObject({ status: "delivered", attempts: 1 });
      const [{ failures }] = await svc.db.$queryRawUnsafe<[{ failures: bigint }]>(
        "SELECT last_value AS failures FROM record_failures",
      );
      expect(failures).toBeGreaterThanOrEqual(2n);
      expect(sendsOf(id)).toHaveLength(1);
      const events = await waitForEvents(id, 3);
      expect(events.map((e) => e.name)).toEqual([
        "outbound.submitted",
        "outbound.delivered",
        "outbound.delivery_report",
      ]);
    } finally {
      await svc.db.$executeRawUnsafe("DROP TRIGGER fail_first_record ON outbound_event");
      await svc.db.$executeRawUnsafe("DROP FUNCTION fail_first_record");
      await svc.db.$executeRawUnsafe("DROP SEQUENCE record_failures");
    }
  });
});

describe("channel failures", () => {
  it("retries a passing provider error and records one submission", async () => {
    const created = (await post({ to_addr: msisdn(), metadata: {}, channel: "FLAKY" })).json();
    expect(await finalOutbound(created.id)).toMatchObject({
      status: "delivered",
      channel: "FLAKY",
      attempts: 1,
      last_error: null,
    });
    expect(sendsOf(created.id)).toHaveLength(2);
    const events = await waitForEvents(created.id, 3);
    expect(events.map((e) => e.name)).toEqual([
      "outbound.submitted",
      "outbound.delivered",
      "outbound.delivery_report",
    ]);
  });

  it("fails an outbound the provider refuses for good, with the reason and no address left", async () => {
    const to = msisdn();
    const created = (await post({ to_addr: to, metadata: {}, channel: "REJECTING" })).json();
    expect(await finalOutbound(created.id)).toMatchObject({
      status: "failed",
      to_addr: "",
      attempts: 0,
      // The reason is kept, the number in it is not.
      last_error: "rejected by the provider: [phone] is not a mobile number",
    });
    expect(sendsOf(created.id)).toHaveLength(1);
    const report = await waitForEvents(created.id, 2);
    expect(report.map((e) => e.name)).toEqual(["outbound.failed", "outbound.delivery_report"]);
  });

  it("fails an outbound.send for a channel this sender does not have", async () => {
    const id = randomUUID();
    await svc.broker.publish("outbound.send", { id, to_addr: msisdn(), metadata: {}, channel: "PIGEON" });
    expect(await finalOutbound(id)).toMatchObject({ status: "failed", last_error: "unknown channel PIGEON" });
  });
});
