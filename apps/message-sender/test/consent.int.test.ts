/**
 * Consent is checked on every send, however it is addressed: after a STOP nothing reaches a provider, whether the
 * send names the number (to_addr), the person (to_identity), comes in a batch or as an outbound.send command from
 * another service; it ends failed with reason opted_out and is no delivery failure of the person. An opt-in lifts
 * it. And to_addr must be an address the channel can send to.
 */
import { randomUUID } from "node:crypto";
import {
  catalog,
  type OptInCreated,
  type OptOutCreated,
  type OutboundDeliveryReport,
} from "@tidings/contracts";
import { adminAuth, type Capture, serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { LogChannel } from "../src/channels/log/adapter.ts";
import { addressHash, ConsentReader, recordConsent } from "../src/consent/consent.ts";
import type { Channel } from "../src/outbound/channel.ts";
import { createMessageSenderService } from "../src/service.ts";
import { address, identityEvent, msisdn, waitForIdle } from "./helpers.ts";
import { addToBook, type Svc } from "./support.ts";

/** Every address a channel was asked to send to: a provider's view. */
const sent: string[] = [];

const service = createMessageSenderService({
  channels: (logger) => {
    const log = new LogChannel(logger);
    const recording: Channel = {
      send: (outbound, to) => {
        sent.push(to);
        return log.send(outbound, to);
      },
    };
    return { LOG: recording };
  },
});

const it = serviceTest(service, { worker: true }, ["outbound.failed", "outbound.delivery_report"]);

const post = (svc: Svc, url: string, payload: Record<string, unknown>) =>
  svc.app.inject({ method: "POST", url, headers: adminAuth, payload });

const final = (svc: Svc, id: string) =>
  waitFor(
    async () => {
      const row = await svc.db.outbound.findUnique({ where: { id } });
      return row && row.status !== "queued" && row;
    },
    { what: `outbound ${id} to end` },
  );

const optOut = (overrides: Partial<OptOutCreated>): OptOutCreated => ({
  ...catalog["optout.created"].example,
  id: randomUUID(),
  created_at: new Date().toISOString(),
  ...overrides,
});

const optIn = (overrides: Partial<OptInCreated>): OptInCreated => ({
  ...catalog["optin.created"].example,
  id: randomUUID(),
  created_at: new Date().toISOString(),
  ...overrides,
});

const consentOf = (svc: Svc, to: string) =>
  svc.db.optedOutAddress.findUnique({ where: { addressHash: new Uint8Array(addressHash(to)) } });

/** Publishes an opt-out as identity would and waits until message-sender holds it. */
async function stop(svc: Svc, to: string, overrides: Partial<OptOutCreated> = {}): Promise<void> {
  await svc.broker.publish("optout.created", optOut({ optout_type: "stop", address: to, ...overrides }));
  await waitFor(async () => (await consentOf(svc, to))?.optedOut === true, { what: `the opt-out of ${to}` });
}

const expectOptedOut = async (svc: Svc, capture: Capture, id: string, to: string) => {
  const row = await final(svc, id);
  expect(row).toMatchObject({ status: "failed", lastError: "opted_out", providerId: null, toAddr: "" });
  expect(sent).not.toContain(to);
  const failed = await waitFor(
    () => capture.named<{ id: string; reason: string | null }>("outbound.failed").find((f) => f.id === id),
    { what: "outbound.failed" },
  );
  expect(failed.reason).toBe("opted_out");
  // no delivery failure of the person (a report would have been published with outbound.failed)
  expect(
    capture.named<OutboundDeliveryReport>("outbound.delivery_report").some((r) => r.outbound_id === id),
  ).toBe(false);
};

/** A person in the address book whose one (default) number is `to`, its `flags` added; returns their id. */
async function personAt(svc: Svc, to: string, flags: Parameters<typeof address>[2] = {}): Promise<string> {
  const identity = identityEvent([address("msisdn", to, { default: true, ...flags })]);
  await addToBook(svc, identity, "identity.created");
  return identity.id;
}

/** Sends "hello" to identity `person` through the API; returns the outbound's id. */
const sendTo = async (svc: Svc, person: string): Promise<string> =>
  (await post(svc, "/api/v1/outbound/", { to_identity: person, content: "hello", metadata: {} })).json().id;

describe("the consent copy's reads", () => {
  it("asked for in the same turn share one statement, each with its own answer, read after it was asked", async ({
    svc,
  }) => {
    const addresses = Array.from({ length: 12 }, () => msisdn());
    const stopped = addresses.filter((_, i) => i % 3 === 0);
    await recordConsent(svc.db, stopped, true, "stop", new Date());
    const reader = new ConsentReader(svc.db);
    const answers = await Promise.all(addresses.map((a) => reader.isOptedOut(a)));
    expect(answers).toEqual(addresses.map((a) => stopped.includes(a)));
    expect(reader.statements).toBe(1);
    // A later read sees a later change.
    await recordConsent(svc.db, [stopped[0] as string], false, "optin", new Date());
    expect(await reader.isOptedOut(stopped[0] as string)).toBe(false);
    expect(reader.statements).toBe(2);
  });
});

describe("a STOP stops every send to the address", () => {
  it("by to_addr through the API", async ({ svc, capture }) => {
    const to = msisdn();
    await stop(svc, to);
    const res = await post(svc, "/api/v1/outbound/", { to_addr: to, content: "hello", metadata: {} });
    expect(res.statusCode).toBe(201);
    await expectOptedOut(svc, capture, res.json().id, to);
  });

  it("by to_identity, whose address book still lists the number (the opt-out overtook identity.updated)", async ({
    svc,
    capture,
  }) => {
    const to = msisdn();
    const person = await personAt(svc, to);
    await stop(svc, to, { identity: person });
    await expectOptedOut(svc, capture, await sendTo(svc, person), to);
  });

  it("by to_identity whose only address is flagged opted out: opted_out, not 'no address'", async ({
    svc,
    capture,
  }) => {
    const to = msisdn();
    const person = await personAt(svc, to, { optedout: true });
    await expectOptedOut(svc, capture, await sendTo(svc, person), to);
  });

  it("in a batch, only the opted-out recipient", async ({ svc }) => {
    const [stopped, fine] = [msisdn(), msisdn()];
    await stop(svc, stopped);
    const res = await post(svc, "/api/v1/outbound/batch/", {
      content: "news",
      recipients: [{ to_addr: stopped }, { to_addr: fine }],
    });
    expect(res.statusCode).toBe(202);
    const rows = await waitFor(async () => {
      const found = await svc.db.outbound.findMany({ where: { batchId: res.json().id } });
      return found.length === 2 && found.every((r) => r.status !== "queued") && found;
    });
    expect(rows.map((r) => r.lastError).sort()).toEqual([null, "opted_out"]);
    expect(sent).toContain(fine);
    expect(sent).not.toContain(stopped);
  });

  it("as an outbound.send command from another service (a topic publish, a scheduler target)", async ({
    svc,
    capture,
  }) => {
    const to = msisdn();
    await stop(svc, to);
    const id = randomUUID();
    await svc.broker.publish("outbound.send", { id, to_addr: to, content: "alert", metadata: {} });
    await expectOptedOut(svc, capture, id, to);
  });

  it("for every address of the identity after stopall, and for the email written in another case", async ({
    svc,
    capture,
  }) => {
    const [phone, email] = [msisdn(), `Someone.${randomUUID().slice(0, 8)}@Example.org`];
    await svc.broker.publish(
      "optout.created",
      optOut({
        optout_type: "stopall",
        address: "",
        identity_details: { addresses: { msisdn: { [phone]: {} }, email: { [email.toLowerCase()]: {} } } },
      }),
    );
    await waitFor(async () => (await consentOf(svc, phone))?.optedOut === true, { what: "the stopall" });
    const [byPhone, byEmail] = await Promise.all([
      post(svc, "/api/v1/outbound/", { to_addr: phone, content: "a", metadata: {} }),
      post(svc, "/api/v1/outbound/", { to_addr: email, content: "b", metadata: {} }),
    ]);
    await expectOptedOut(svc, capture, byPhone.json().id, phone);
    await expectOptedOut(svc, capture, byEmail.json().id, email.toLowerCase());
  });

  it("to the person after stopall, through communicate_through or an address added since, until they opt in", async ({
    svc,
    capture,
  }) => {
    // A household member with no number of her own, reached through her carer's.
    const carerPhone = msisdn();
    const carer = await personAt(svc, carerPhone);
    const member = identityEvent([], { communicate_through: carer });
    await addToBook(svc, member, "identity.created");
    const stopped = (identity: string) => svc.db.stoppedIdentity.findUnique({ where: { identity } });
    await svc.broker.publish(
      "optout.created",
      optOut({
        optout_type: "stopall",
        identity: member.id,
        address: "",
        identity_details: { addresses: {} },
      }),
    );
    await waitFor(async () => (await stopped(member.id))?.stopped === true, { what: "the member's stopall" });
    await expectOptedOut(svc, capture, await sendTo(svc, member.id), carerPhone);
    // The carer's own messages are not hers to stop.
    expect(await final(svc, await sendTo(svc, carer))).toMatchObject({ status: "delivered" });
    sent.length = 0;

    // A number of her own, added after the stopall, is not sent to either.
    const ownPhone = msisdn();
    await addToBook(
      svc,
      {
        ...member,
        addresses: [address("msisdn", ownPhone, { default: true })],
        communicate_through: null,
        updated_at: new Date().toISOString(),
      },
      "identity.updated",
    );
    await expectOptedOut(svc, capture, await sendTo(svc, member.id), ownPhone);

    // An unsubscribe from one topic is not a stop of everything; an opt-in lifts it (an older stopall stays lifted).
    await svc.broker.publish(
      "optout.created",
      optOut({ optout_type: "unsubscribe", topic: "news/ke", identity: carer, address: carerPhone }),
    );
    await svc.broker.publish("optin.created", optIn({ identity: member.id, address: ownPhone }));
    await waitFor(async () => (await stopped(member.id))?.stopped === false, { what: "the opt-in" });
    await svc.broker.publish(
      "optout.created",
      optOut({
        optout_type: "stopall",
        identity: member.id,
        address: "",
        identity_details: { addresses: {} },
        created_at: new Date(Date.now() - 60_000).toISOString(),
      }),
    );
    await waitForIdle(svc.broker, "message-sender.consent");
    expect(await stopped(carer)).toBeNull();
    expect(await final(svc, await sendTo(svc, member.id))).toMatchObject({ status: "delivered" });
    expect(sent).toContain(ownPhone);
  });

  it("an opt-in lifts it; an opt-out older than the opt-in (a late redelivery) does not bring it back", async ({
    svc,
  }) => {
    const to = msisdn();
    const stoppedAt = new Date(Date.now() - 60_000).toISOString();
    await stop(svc, to, { created_at: stoppedAt });
    await svc.broker.publish("optin.created", optIn({ address: to }));
    await waitFor(async () => (await consentOf(svc, to))?.optedOut === false, { what: "the opt-in" });
    await svc.broker.publish(
      "optout.created",
      optOut({ optout_type: "stop", address: to, created_at: stoppedAt }),
    );
    await waitForIdle(svc.broker, "message-sender.consent");
    expect((await consentOf(svc, to))?.optedOut).toBe(false);

    const res = await post(svc, "/api/v1/outbound/", { to_addr: to, content: "welcome back", metadata: {} });
    expect(await final(svc, res.json().id)).toMatchObject({ status: "delivered" });
    expect(sent).toContain(to);
  });

  it("an unsubscribe from one topic stops no direct send", async ({ svc }) => {
    const to = msisdn();
    await svc.broker.publish(
      "optout.created",
      optOut({
        optout_type: "unsubscribe",
        address: to,
        topic: "news/ke",
        identity_details: { addresses: { msisdn: { [to]: {} } } },
      }),
    );
    await waitForIdle(svc.broker, "message-sender.consent");
    expect(await consentOf(svc, to)).toBeNull();
  });

  it("keeps no address in clear: only its SHA-256", async ({ svc }) => {
    const to = msisdn();
    await stop(svc, to);
    const rows = await svc.db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM opted_out_address WHERE encode(address_hash, 'escape') LIKE ${`%${to}%`}`;
    expect(rows[0]?.n).toBe(0);
    expect(Buffer.from((await consentOf(svc, to))?.addressHash ?? []).toString("hex")).toBe(
      addressHash(to).toString("hex"),
    );
  });
});

describe("to_addr is an address the channel can send to", () => {
  const count = (svc: Svc) => svc.db.outbound.count();

  it.for([["hello"], ["12345"], ["+2782"], ["not an email@"]])(
    "%j is a 400 that names the field, and nothing is stored",
    async ([to], { svc }) => {
      const before = await count(svc);
      const res = await post(svc, "/api/v1/outbound/", { to_addr: to, content: "x", metadata: {} });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({
        code: "MESSAGE_SENDER_INVALID_ADDRESS",
        details: [{ field: "body.to_addr", message: expect.stringMatching(/E\.164/) }],
      });
      expect(await count(svc)).toBe(before);
    },
  );

  it("a phone number is stored in E.164 form", async ({ svc }) => {
    const res = await post(svc, "/api/v1/outbound/", {
      to_addr: "+27 82 000 1001",
      content: "x",
      metadata: {},
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().to_addr).toBe("+27820001001");
  });

  it("a batch names each bad recipient, and stores nothing", async ({ svc }) => {
    const before = await count(svc);
    const res = await post(svc, "/api/v1/outbound/batch/", {
      content: "x",
      recipients: [{ to_addr: msisdn() }, { to_addr: "hello" }, { to_addr: "0821234567" }],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.map((d: { field: string }) => d.field)).toEqual([
      "body.recipients[1].to_addr",
      "body.recipients[2].to_addr",
    ]);
    expect(await count(svc)).toBe(before);
  });

  it("an outbound.send command with a bad to_addr fails without reaching a provider", async ({ svc }) => {
    const id = randomUUID();
    await svc.broker.publish("outbound.send", { id, to_addr: "hello", content: "x", metadata: {} });
    const row = await final(svc, id);
    expect(row).toMatchObject({ status: "failed" });
    expect(row.lastError).toMatch(/not an address a log channel can send to/);
    expect(sent).not.toContain("hello");
  });
});
