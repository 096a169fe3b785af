import type { OptInCreated, OptOutCreated } from "@tidings/contracts";
import { adminAuth, expectError, serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { identityService } from "../src/service.ts";
import { create, get, msisdn, type Svc, send } from "./helpers.ts";

const it = serviceTest(identityService, { worker: true }, [
  "optout.created",
  "optin.created",
  "identity.updated",
]);

const optout = (svc: Svc, payload: Record<string, unknown>) =>
  send(svc, "POST", "/api/v1/optout/", { request_source: "test", ...payload });

const optin = (svc: Svc, payload: Record<string, unknown>) =>
  send(svc, "POST", "/api/v1/optin/", { request_source: "test", ...payload });

/** Identity `id`'s consent ledger, as GET /api/v1/identities/:id/consent/ answers it. */
const ledgerOf = async (svc: Svc, id: string) => (await get(svc, `/api/v1/identities/${id}/consent/`)).json();

/** Expects identity `id`'s consent ledger to hold one entry, with `entry`'s fields. */
const expectOneLedgerEntry = async (svc: Svc, id: string, entry: Record<string, unknown>) =>
  expect((await ledgerOf(svc, id)).results).toEqual([expect.objectContaining(entry)]);

describe("POST /api/v1/optout/", () => {
  it("stop: resolves the identity by address, opts out only that address, emits optout.created with details before", async ({
    svc,
    capture,
  }) => {
    const [a, b] = [msisdn(10), msisdn(10)];
    const details = {
      addresses: { msisdn: { [a]: {}, [b]: {} }, email: { "x@example.org": {} } },
      lang_code: "eng_ZA",
    };
    const identity = await create(svc, { details });
    const res = await optout(svc, {
      address_type: "msisdn",
      address: `${a.slice(0, 3)} ${a.slice(3)}`,
      reason: "not interested",
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      optout_type: "stop",
      identity: identity.id,
      address_type: "msisdn",
      address: a,
      request_source: "test",
      requestor_source_id: null,
      reason: "not interested",
    });
    const stored = (await get(svc, `/api/v1/identities/${identity.id}/`)).json();
    expect(stored.details.addresses).toEqual({
      msisdn: { [a]: { optedout: true }, [b]: {} },
      email: { "x@example.org": {} },
    });
    const event = await waitFor(
      () => capture.named<OptOutCreated>("optout.created").find((e) => e.identity === identity.id),
      { what: "optout.created" },
    );
    expect(event).toMatchObject({ optout_type: "stop", reason: "not interested", identity_details: details });
  });

  it("stopall opts out every address of every type", async ({ svc }) => {
    const [a, b] = [msisdn(11), msisdn(11)];
    const identity = await create(svc, {
      details: { addresses: { msisdn: { [a]: {}, [b]: {} }, email: { "y@example.org": {} } } },
    });
    expect((await optout(svc, { optout_type: "stopall", identity: identity.id })).statusCode).toBe(201);
    const stored = (await get(svc, `/api/v1/identities/${identity.id}/`)).json();
    expect(stored.details.addresses).toEqual({
      msisdn: { [a]: { optedout: true }, [b]: { optedout: true } },
      email: { "y@example.org": { optedout: true } },
    });
  });

  it("unsubscribe leaves the identity unchanged and records its topic in the ledger", async ({ svc }) => {
    const a = msisdn(12);
    const identity = await create(svc, { details: { addresses: { msisdn: { [a]: {} } } } });
    const res = await optout(svc, {
      optout_type: "unsubscribe",
      address_type: "msisdn",
      address: a,
      topic: "prebirth",
    });
    expect(res.statusCode).toBe(201);
    const stored = (await get(svc, `/api/v1/identities/${identity.id}/`)).json();
    expect(stored.details).toEqual(identity.details);
    expect(stored.updated_at).toBe(identity.updated_at);
    await expectOneLedgerEntry(svc, identity.id, {
      action: "optout",
      kind: "unsubscribe",
      scope: "topic",
      topic: "prebirth",
      channel: "msisdn",
      address: a,
    });
  });

  it("forget redacts details, empties addresses, clears communicate_through and redacts opt-out and opt-in addresses", async ({
    svc,
  }) => {
    const a = msisdn(13);
    const other = await create(svc, { details: { addresses: {} } });
    const identity = await create(svc, {
      details: { addresses: { msisdn: { [a]: {} } }, name: "Thandi", lang_code: "zul_ZA" },
      communicate_through: other.id,
    });
    expect((await optout(svc, { address_type: "msisdn", address: a })).statusCode).toBe(201);
    expect((await optin(svc, { address_type: "msisdn", address: a })).statusCode).toBe(201);
    const res = await optout(svc, { optout_type: "forget", address_type: "msisdn", address: a });
    expect(res.statusCode).toBe(201);
    expect(res.json().address).toBe("redacted");
    const stored = (await get(svc, `/api/v1/identities/${identity.id}/`)).json();
    expect(stored.details).toEqual({ addresses: {}, name: "redacted", lang_code: "redacted" });
    expect(stored.communicate_through).toBeNull();
    const optins = await svc.db.optIn.findMany({ where: { identityId: identity.id } });
    expect(optins.map((o) => o.address)).toEqual(["redacted"]);
    const optouts = await svc.db.optOut.findMany({ where: { identityId: identity.id } });
    expect(optouts.map((o) => o.address)).toEqual(["redacted", "redacted"]);
    const ledger = await ledgerOf(svc, identity.id);
    expect(ledger.results.map((e: { kind: string; address: string }) => [e.kind, e.address])).toEqual([
      ["stop", "redacted"],
      ["optin", "redacted"],
      ["forget", "redacted"],
    ]);
    expect(JSON.stringify(ledger)).not.toContain(a);
  });

  it("forget removes pending hook deliveries and Idempotency-Key answers that carry the person, and redacts delivered ones", async ({
    svc,
  }) => {
    const a = msisdn(15);
    const email = "forget.hooks@example.org";
    const hook = (
      await send(svc, "POST", "/api/v1/webhook/", {
        event: "identity.created",
        target: "http://127.0.0.1:9/hooks",
      })
    ).json();
    const optoutHook = (
      await send(svc, "POST", "/api/v1/webhook/", {
        event: "optout.requested",
        target: "http://127.0.0.1:9/hooks",
      })
    ).json();
    const res = await svc.app.inject({
      method: "POST",
      url: "/api/v1/identities/",
      headers: { ...adminAuth, "idempotency-key": `forget-${a}` },
      payload: { details: { addresses: { msisdn: { [a]: {} }, email: { [email]: {} } }, name: "Nomsa" } },
    });
    expect(res.statusCode).toBe(201);
    const identity = res.json();
    const bystander = await create(svc, { details: { addresses: { msisdn: { [msisdn(15)]: {} } } } });
    // One delivery about the person already delivered: it keeps its record, not the person.
    await svc.db.$executeRaw`
      UPDATE tidings_hook_delivery SET status = 'delivered'
      WHERE hook_id = ${hook.id} AND strpos(body, ${identity.id}) > 0`;
    await create(svc, { details: { addresses: { email: { [email]: {} } } } }); // the address on another one
    const deliveries = () =>
      svc.db.hookDelivery.findMany({ where: { hookId: { in: [hook.id, optoutHook.id] } } });
    const mentioning = async (needle: string) =>
      (await deliveries()).filter((d) => d.body.includes(needle)).map((d) => d.status);
    expect(await mentioning(email)).toEqual(expect.arrayContaining(["delivered", "pending"]));

    expect((await optout(svc, { optout_type: "forget", identity: identity.id })).statusCode).toBe(201);
    expect(await mentioning(email)).toEqual([]);
    expect(await mentioning(a)).toEqual([]);
    expect(await mentioning("Nomsa")).toEqual([]);
    // The delivered one stays, redacted; the bystander's pending one is untouched.
    const left = await deliveries();
    expect(left.filter((d) => d.status === "delivered").map((d) => JSON.parse(d.body))).toEqual([
      { hook: { id: hook.id, event: "identity.created", target: hook.target }, data: "redacted" },
    ]);
    expect(left.some((d) => d.status === "pending" && d.body.includes(bystander.id))).toBe(true);
    // The forget's own optout.requested (Seed's raw body) carries the details as forgotten.
    const requested = left.find((d) => d.event === "optout.requested" && d.body.includes(identity.id));
    expect(JSON.parse(requested?.body ?? "{}").identity_details).toEqual({
      addresses: {},
      name: "redacted",
    });
    const keys = await svc.db.idempotencyKey.findMany({ where: { key: `forget-${a}` } });
    expect(keys).toEqual([]);
    // A redelivered or repeated forget changes nothing more and does not fail.
    expect((await optout(svc, { optout_type: "forget", identity: identity.id })).statusCode).toBe(201);
    expect(await mentioning("Nomsa")).toEqual([]);
  });

  it("forget takes only the person: a bystander whose address contains theirs keeps their hook deliveries and Idempotency-Key answers", async ({
    svc,
  }) => {
    const hook = (
      await send(svc, "POST", "/api/v1/webhook/", {
        event: "identity.created",
        target: "http://127.0.0.1:9/bystanders",
      })
    ).json();
    const createKeyed = async (key: string, addresses: Record<string, Record<string, object>>) => {
      const res = await svc.app.inject({
        method: "POST",
        url: "/api/v1/identities/",
        headers: { ...adminAuth, "idempotency-key": key },
        payload: { details: { addresses } },
      });
      expect(res.statusCode).toBe(201);
      return res.json();
    };
    const person = await createKeyed("forget-only-ann", {
      msisdn: { "+2782000100": {} },
      email: { "ann@example.org": {} },
    });
    // Their number and email are the start or the end of the bystanders'.
    const bystanders = [
      await createKeyed("forget-only-jo", {
        msisdn: { "+27820001001": {} },
        email: { "joann@example.org": {} },
      }),
      await createKeyed("forget-only-au", { email: { "ann@example.org.au": {} } }),
    ];
    const bodyAbout = async (id: string) =>
      (await svc.db.hookDelivery.findMany({ where: { hookId: hook.id } })).find((d) => d.body.includes(id))
        ?.body;
    const before = await Promise.all(bystanders.map((b) => bodyAbout(b.id)));
    expect(before.every(Boolean)).toBe(true);

    expect((await optout(svc, { optout_type: "forget", identity: person.id })).statusCode).toBe(201);
    expect(await bodyAbout(person.id)).toBeUndefined();
    expect(await Promise.all(bystanders.map((b) => bodyAbout(b.id)))).toEqual(before);
    const keys = await svc.db.idempotencyKey.findMany({
      where: { key: { startsWith: "forget-only-" } },
      orderBy: { key: "asc" },
    });
    expect(keys.map((k) => k.key)).toEqual(["forget-only-au", "forget-only-jo"]);
  });

  it("forget redacts the whole raw body of a delivered optout.requested (no envelope to keep)", async ({
    svc,
  }) => {
    const a = msisdn(16);
    const hook = (
      await send(svc, "POST", "/api/v1/webhook/", {
        event: "optout.requested",
        target: "http://127.0.0.1:9/raw",
      })
    ).json();
    const identity = await create(svc, { details: { addresses: { msisdn: { [a]: {} } } } });
    expect(
      (await optout(svc, { optout_type: "stop", identity: identity.id, address_type: "msisdn", address: a }))
        .statusCode,
    ).toBe(201);
    await svc.db
      .$executeRaw`UPDATE tidings_hook_delivery SET status = 'delivered' WHERE hook_id = ${hook.id}`;
    expect((await optout(svc, { optout_type: "forget", identity: identity.id })).statusCode).toBe(201);
    const bodies = (
      await svc.db.hookDelivery.findMany({ where: { hookId: hook.id, status: "delivered" } })
    ).map((d) => d.body);
    expect(bodies).toEqual(['"redacted"']);
  });

  it("forget of a deleted identity: what its consent records still hold of the person is redacted and the forget published", async ({
    svc,
    capture,
  }) => {
    const [a, b] = [msisdn(20), msisdn(20)];
    const email = "deleted.forget@example.org";
    const created = await svc.app.inject({
      method: "POST",
      url: "/api/v1/identities/",
      headers: { ...adminAuth, "idempotency-key": `deleted-${a}` },
      payload: { details: { addresses: { msisdn: { [a]: {}, [b]: {} }, email: { [email]: {} } } } },
    });
    expect(created.statusCode).toBe(201);
    const identity = created.json();
    expect((await optout(svc, { address_type: "msisdn", address: a })).statusCode).toBe(201);
    expect((await optin(svc, { identity: identity.id, address_type: "msisdn", address: a })).statusCode).toBe(
      201,
    );
    expect((await optout(svc, { address_type: "msisdn", address: b })).statusCode).toBe(201);
    expect((await send(svc, "DELETE", `/api/v1/identities/${identity.id}/`)).statusCode).toBe(204);
    // Only a forget finds a deleted identity; an id the ledger does not know either stays a 400.
    const stop = await optout(svc, { identity: identity.id, address_type: "msisdn", address: a });
    expectError(stop, 400, "IDENTITY_REFERENCE_NOT_FOUND");
    const unknown = await optout(svc, {
      optout_type: "forget",
      identity: "00000000-0000-4000-8000-000000000020",
    });
    expectError(unknown, 400, "IDENTITY_REFERENCE_NOT_FOUND");

    const res = await optout(svc, { optout_type: "forget", identity: identity.id });
    expect(res.statusCode).toBe(201);
    const forget = res.json();
    expect(forget).toMatchObject({ optout_type: "forget", identity: null, address: "" });
    const ledger = await ledgerOf(svc, identity.id);
    expect(ledger.results.map((e: { kind: string; address: string }) => [e.kind, e.address])).toEqual([
      ["stop", "redacted"],
      ["optin", "redacted"],
      ["stop", "redacted"],
      ["forget", null],
    ]);
    expect(ledger.results.at(-1).record).toBe(forget.id);
    const records = ledger.results.map((e: { record: string }) => e.record);
    const rows = [
      ...(await svc.db.optOut.findMany({ where: { id: { in: records } } })),
      ...(await svc.db.optIn.findMany({ where: { id: { in: records } } })),
    ];
    expect(rows.map((r) => r.address).sort()).toEqual(["", "redacted", "redacted", "redacted"]);
    for (const address of [a, b]) {
      const found = await get(
        svc,
        `/api/v1/optouts/search/?address_type=msisdn&address=${encodeURIComponent(address)}`,
      );
      expect(found.json().count).toBe(0);
    }
    expect(await svc.db.idempotencyKey.findMany({ where: { key: `deleted-${a}` } })).toEqual([]);
    // The other services forget the person as for a live identity, by the id and the addresses the ledger knew (the
    // email, never opted out or in, went with the identity's row).
    const event = await waitFor(
      () =>
        capture
          .named<OptOutCreated>("optout.created")
          .find((e) => e.identity === identity.id && e.optout_type === "forget"),
      { what: "optout.created (forget)" },
    );
    expect(event.id).toBe(forget.id);
    expect(event.identity_details).toEqual({ addresses: { msisdn: { [a]: {}, [b]: {} } } });
  });

  it("answers 400 with Seed's messages for no match and for several matches, and records nothing", async ({
    svc,
  }) => {
    const a = msisdn(14);
    const before = await svc.db.optOut.count();
    const none = await optout(svc, { address_type: "msisdn", address: a });
    expect(none.statusCode).toBe(400);
    expect(none.json().error).toMatchObject({
      code: "IDENTITY_ADDRESS_NOT_FOUND",
      message: "There is no identity with this address.",
    });
    await create(svc, { details: { addresses: { msisdn: { [a]: {} } } } });
    await create(svc, { details: { addresses: { msisdn: { [a]: {} } } } });
    const many = await optout(svc, { address_type: "msisdn", address: a });
    expect(many.statusCode).toBe(400);
    expect(many.json().error).toMatchObject({
      code: "IDENTITY_ADDRESS_AMBIGUOUS",
      message: "There are multiple identities with this address.",
    });
    expect(await svc.db.optOut.count()).toBe(before);
    expect(await svc.db.consentEvent.count({ where: { address: a } })).toBe(0);
  });

  it("rejects a missing request_source, an unknown type and a stop for an address the identity lacks", async ({
    svc,
  }) => {
    const identity = await create(svc, { details: { addresses: { msisdn: { [msisdn(15)]: {} } } } });
    const noSource = await send(svc, "POST", "/api/v1/optout/", {
      identity: identity.id,
      optout_type: "stopall",
    });
    expect(noSource.statusCode).toBe(400);
    expect(noSource.json().error.details[0].field).toBe("body.request_source");
    expect((await optout(svc, { identity: identity.id, optout_type: "pause" })).statusCode).toBe(400);
    const lacking = await optout(svc, { identity: identity.id, address_type: "msisdn", address: msisdn(15) });
    expectError(lacking, 400, "IDENTITY_ADDRESS_NOT_ON_IDENTITY");
  });
});

describe("POST /api/v1/optin/", () => {
  it("clears optedout on the address, emits optin.created with details before, and appends to the ledger", async ({
    svc,
    capture,
  }) => {
    const a = msisdn(16);
    const identity = await create(svc, { details: { addresses: { msisdn: { [a]: { optedout: true } } } } });
    const res = await send(svc, "POST", "/api/v1/optin/", {
      address_type: "msisdn",
      address: a,
      request_source: "sms",
      requestor_source_id: "42",
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      identity: identity.id,
      address: a,
      request_source: "sms",
      requestor_source_id: "42",
    });
    const stored = (await get(svc, `/api/v1/identities/${identity.id}/`)).json();
    expect(stored.details.addresses.msisdn[a]).toEqual({ optedout: false });
    const event = await waitFor(
      () => capture.named<OptInCreated>("optin.created").find((e) => e.identity === identity.id),
      { what: "optin.created" },
    );
    expect(event.identity_details).toEqual(identity.details);
    await expectOneLedgerEntry(svc, identity.id, {
      action: "optin",
      kind: "optin",
      scope: "address",
      source: "sms",
      source_id: "42",
    });
  });

  it("answers 400, not 500, for an address the identity does not have", async ({ svc }) => {
    const identity = await create(svc, { details: { addresses: { msisdn: { [msisdn(17)]: {} } } } });
    const res = await send(svc, "POST", "/api/v1/optin/", {
      identity: identity.id,
      address_type: "email",
      address: "nobody@example.org",
      request_source: "sms",
    });
    expectError(res, 400, "IDENTITY_ADDRESS_NOT_ON_IDENTITY");
    expect(await svc.db.optIn.count({ where: { identityId: identity.id } })).toBe(0);
  });
});

describe("GET /api/v1/optouts/search/ and the consent ledger", () => {
  it("filters opt-outs by field and answers 400 for an unknown field", async ({ svc }) => {
    const a = msisdn(18);
    const identity = await create(svc, { details: { addresses: { msisdn: { [a]: {} } } } });
    await optout(svc, { address_type: "msisdn", address: a, request_source: "ussd", reason: "moved" });
    const found = (
      await get(svc, `/api/v1/optouts/search/?identity=${identity.id}&request_source=ussd`)
    ).json();
    expect(found.results).toEqual([expect.objectContaining({ identity: identity.id, reason: "moved" })]);
    expect(
      (await get(svc, `/api/v1/optouts/search/?identity=${identity.id}&request_source=web`)).json().count,
    ).toBe(0);
    const spaced = encodeURIComponent(`${a.slice(0, 3)} ${a.slice(3)}`);
    const byAddress = (
      await get(svc, `/api/v1/optouts/search/?address_type=msisdn&address=${spaced}`)
    ).json();
    expect(byAddress.results.map((o: { identity: string }) => o.identity)).toEqual([identity.id]);
    const bad = await get(svc, "/api/v1/optouts/search/?identity__user__password=x");
    expect(bad.statusCode).toBe(400);
    const cursor = (await get(svc, `/api/v1/optouts/search/?identity=${identity.id}&cursor=`)).json();
    expect(cursor).toMatchObject({
      next: null,
      previous: null,
      results: [expect.objectContaining({ reason: "moved" })],
    });
  });

  it("the ledger ignores deletes and changes other than redaction", async ({ svc }) => {
    const a = msisdn(19);
    const identity = await create(svc, { details: { addresses: { msisdn: { [a]: {} } } } });
    await optout(svc, { identity: identity.id, address_type: "msisdn", address: a, reason: "moved" });
    const where = { identityId: identity.id };
    const before = await svc.db.consentEvent.findFirstOrThrow({ where });
    await svc.db.consentEvent.deleteMany({ where });
    await svc.db.consentEvent.updateMany({ where, data: { reason: "changed" } });
    await svc.db.consentEvent.updateMany({ where, data: { address: "+27000" } });
    expect(await svc.db.consentEvent.findFirstOrThrow({ where })).toEqual(before);
    await svc.db.consentEvent.updateMany({ where, data: { address: "redacted" } });
    expect((await svc.db.consentEvent.findFirstOrThrow({ where })).address).toBe("redacted");
  });

  it("404s the ledger of an unknown identity", async ({ svc }) => {
    const res = await get(svc, "/api/v1/identities/00000000-0000-4000-8000-000000000000/consent/");
    expect(res.statusCode).toBe(404);
  });
});
