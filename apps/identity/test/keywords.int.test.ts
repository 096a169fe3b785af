import { randomUUID } from "node:crypto";
import { countDeadLetters } from "@tidings/amqp";
import { type InboundReceived, type OptOutReported, toSeedTime } from "@tidings/contracts";
import { adminAuth, serviceTest, type TestService, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import type { IdentityConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { identityService } from "../src/service.ts";

const it = serviceTest(identityService, { worker: true }, ["optout.created", "optin.created"]);

const inbound = (overrides: Partial<InboundReceived>): InboundReceived => ({
  id: randomUUID(),
  channel: "TW",
  message_id: "SM1",
  in_reply_to: null,
  from_identity: null,
  from_addr: null,
  to_addr: "+15005550006",
  content: "STOP",
  keyword: "stop",
  at: new Date().toISOString(),
  ...overrides,
});

async function identityWith(svc: TestService<IdentityConfig, Db>, msisdn: string): Promise<string> {
  const res = await svc.app.inject({
    method: "POST",
    url: "/api/v1/identities/",
    headers: adminAuth,
    payload: { details: { addresses: { msisdn: { [msisdn]: { default: true }, "+27820009000": {} } } } },
  });
  return res.json().id;
}

const flags = async (svc: TestService<IdentityConfig, Db>, id: string, msisdn: string) =>
  (
    (await svc.db.identity.findUniqueOrThrow({ where: { id } })).details as {
      addresses: { msisdn: Record<string, { optedout?: boolean }> };
    }
  ).addresses.msisdn[msisdn];

describe("inbound keywords", () => {
  it("opts the sending address out on STOP, once however often it is delivered, and back in on START", async ({
    svc,
    capture,
  }) => {
    const id = await identityWith(svc, "+27820001111");
    const stop = inbound({ from_identity: id, from_addr: "+27820001111" });
    await svc.broker.publish("inbound.received", stop);
    await svc.broker.publish("inbound.received", stop);
    await waitFor(async () => (await flags(svc, id, "+27820001111"))?.optedout === true, {
      what: "opted out",
    });
    // Only the address that said STOP; the identity's other number is untouched.
    expect((await flags(svc, id, "+27820009000"))?.optedout).toBeUndefined();
    await new Promise((r) => setTimeout(r, 300));
    const optouts = await svc.db.optOut.findMany({ where: { identityId: id } });
    expect(optouts).toMatchObject([
      { optoutType: "stop", requestSource: "inbound:TW", requestorSourceId: stop.id, reason: "STOP keyword" },
    ]);
    expect(capture.messages.filter((m) => m.name === "optout.created")).toHaveLength(1);

    await svc.broker.publish(
      "inbound.received",
      inbound({ from_identity: id, from_addr: "+27820001111", keyword: "start", content: "START" }),
    );
    await waitFor(async () => (await flags(svc, id, "+27820001111"))?.optedout === false, {
      what: "opted in",
    });
    await waitFor(() => capture.messages.some((m) => m.name === "optin.created"), { what: "optin.created" });
  });

  it("orders STOP and START as the person sent them, not as they were handled", async ({ svc, capture }) => {
    const id = await identityWith(svc, "+27820004444");
    const from = { from_identity: id, from_addr: "+27820004444" };
    const at = (seconds: number) => new Date(Date.now() - 60_000 + seconds * 1000).toISOString();
    // START at :10 then STOP at :20, handled STOP first (a backlog, a retry): the START is older than the STOP.
    const stop = inbound({ ...from, at: at(20) });
    await svc.broker.publish("inbound.received", stop);
    await waitFor(async () => (await flags(svc, id, "+27820004444"))?.optedout === true, {
      what: "opted out",
    });
    const optout = await waitFor(
      () =>
        capture
          .named<{ identity: string; created_at: string }>("optout.created")
          .find((o) => o.identity === id),
      { what: "optout.created" },
    );
    expect(optout.created_at).toBe(toSeedTime(new Date(stop.at)));
    const late = inbound({ ...from, keyword: "start", content: "START", at: at(10) });
    await svc.broker.publish("inbound.received", late);
    await waitFor(
      async () => (await svc.db.processedMessage.count({ where: { messageId: late.id } })) === 1,
      { what: "the late START handled" },
    );
    expect((await flags(svc, id, "+27820004444"))?.optedout).toBe(true);
    expect(await svc.db.optIn.count({ where: { identityId: id } })).toBe(0);
    // A START sent after the STOP opts back in, dated when it was sent.
    const start = inbound({ ...from, keyword: "start", content: "START", at: at(30) });
    await svc.broker.publish("inbound.received", start);
    await waitFor(async () => (await flags(svc, id, "+27820004444"))?.optedout === false, {
      what: "opted in",
    });
    const optin = await svc.db.optIn.findFirstOrThrow({ where: { identityId: id } });
    expect(optin.createdAt.toISOString()).toBe(start.at);
  });

  it("opts the number out on every identity sharing it, whichever one the message names, and back in", async ({
    svc,
  }) => {
    // A phone shared by a mother and her partner: STOP from it is from whoever holds it.
    const named = await identityWith(svc, "+27820003333");
    const other = await identityWith(svc, "+27820003333");
    await svc.broker.publish(
      "inbound.received",
      inbound({ from_identity: named, from_addr: "+27820003333" }),
    );
    for (const id of [named, other]) {
      await waitFor(async () => (await flags(svc, id, "+27820003333"))?.optedout === true, {
        what: `${id} opted out`,
      });
    }
    // Resolved by address alone, too (message-sender found nobody in its address book).
    await svc.broker.publish(
      "inbound.received",
      inbound({ from_addr: "+27820003333", keyword: "start", content: "START" }),
    );
    for (const id of [named, other]) {
      await waitFor(async () => (await flags(svc, id, "+27820003333"))?.optedout === false, {
        what: `${id} opted in`,
      });
    }
    expect(await svc.db.optOut.count({ where: { address: "+27820003333" } })).toBe(2);
  });

  it("resolves the sender by address, and ignores HELP and addresses nobody has", async ({ svc }) => {
    const id = await identityWith(svc, "+27820002222");
    await svc.broker.publish("inbound.received", inbound({ from_addr: "+27820002222" }));
    await waitFor(async () => (await flags(svc, id, "+27820002222"))?.optedout === true, {
      what: "opted out by address",
    });
    const before = await svc.db.optOut.count();
    await svc.broker.publish(
      "inbound.received",
      inbound({ from_addr: "+27820002222", keyword: "help", content: "HELP" }),
    );
    await svc.broker.publish("inbound.received", inbound({ from_addr: "+27829999999" }));
    await new Promise((r) => setTimeout(r, 500));
    expect(await svc.db.optOut.count()).toBe(before);
    expect(await countDeadLetters(svc.broker, "identity.inbound")).toBe(0);
  });
});

describe("a provider's report that the recipient unsubscribed (optout.reported)", () => {
  const report = (overrides: Partial<OptOutReported>): OptOutReported => ({
    outbound_id: randomUUID(),
    identity: null,
    address_type: "msisdn",
    address: "+27820001112",
    channel: "TWILIO",
    provider_code: "twilio 21610",
    at: new Date().toISOString(),
    ...overrides,
  });

  it("is a stop opt-out of that address from source provider, in the ledger, once however often it is delivered", async ({
    svc,
    capture,
  }) => {
    const id = await identityWith(svc, "+27820001112");
    const reported = report({ identity: id });
    await svc.broker.publish("optout.reported", reported);
    await svc.broker.publish("optout.reported", reported);
    await waitFor(async () => (await flags(svc, id, "+27820001112"))?.optedout === true, {
      what: "opted out",
    });
    await new Promise((r) => setTimeout(r, 300));
    const optouts = await svc.db.optOut.findMany({ where: { identityId: id } });
    expect(optouts).toEqual([
      expect.objectContaining({
        optoutType: "stop",
        address: "+27820001112",
        requestSource: "provider",
        requestorSourceId: reported.outbound_id,
        reason: "TWILIO: twilio 21610",
      }),
    ]);
    expect(await svc.db.consentEvent.findMany({ where: { identityId: id } })).toEqual([
      expect.objectContaining({
        action: "optout",
        kind: "stop",
        source: "provider",
        address: "+27820001112",
      }),
    ]);
    // message-sender's copy of consent follows from this
    await waitFor(
      () =>
        capture
          .named<{ identity: string; request_source: string }>("optout.created")
          .find((o) => o.identity === id),
      { what: "optout.created" },
    );
  });

  it("finds the identity by its address when the outbound had none; an unknown address changes nothing", async ({
    svc,
  }) => {
    const id = await identityWith(svc, "+27820001113");
    await svc.broker.publish("optout.reported", report({ address: "+27820001113" }));
    await waitFor(async () => (await flags(svc, id, "+27820001113"))?.optedout === true, {
      what: "opted out",
    });
    const before = await svc.db.optOut.count();
    await svc.broker.publish("optout.reported", report({ address: "+27820009999" }));
    await new Promise((r) => setTimeout(r, 500));
    expect(await svc.db.optOut.count()).toBe(before);
    expect(await countDeadLetters(svc.broker, "identity.provider-optouts")).toBe(0);
  });
});
