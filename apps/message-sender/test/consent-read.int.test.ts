import { randomUUID } from "node:crypto";
import { catalog, type OptInCreated, type OptOutCreated, toSeedTime } from "@tidings/contracts";
import { expectError, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { type Caller, call, helpdeskTest, type Svc, send, TEAM_ALLOWED } from "./helpdesk-fixtures.ts";
import { msisdn } from "./helpers.ts";

// GET /api/v1/consent/?address=: what the consent copy says of an address, which every send to it meets.
const it = helpdeskTest();

const consent = (svc: Svc, address: string, caller: Caller = "admin") =>
  call(svc, caller, "GET", `/api/v1/consent/?address=${encodeURIComponent(address)}`);

/** The answer for `address`, expecting 200. */
async function consentOf(svc: Svc, address: string, caller: Caller = "admin") {
  const res = await consent(svc, address, caller);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** Waits until the answer for `address` is `opted_out`; returns it. */
const once = (svc: Svc, address: string, optedOut: boolean) =>
  waitFor(
    async () => {
      const answer = await consentOf(svc, address);
      return answer.opted_out === optedOut && answer;
    },
    { what: `${address} ${optedOut ? "opted out" : "opted in"} in the consent copy` },
  );

/** Sends "hello" to `to` through the API (the log channel) and waits for it to end: its status and reason. */
async function sendEnds(svc: Svc, to: string) {
  const { id } = await send(svc, "admin", { to_addr: to, content: "hello" });
  const row = await waitFor(
    async () => {
      const o = await svc.db.outbound.findUniqueOrThrow({ where: { id } });
      return o.status !== "queued" && o;
    },
    { what: `outbound ${id} to end` },
  );
  return { status: row.status, reason: row.lastError };
}

describe("GET /api/v1/consent/", () => {
  it("an address never seen: sends allowed, no change recorded", async ({ svc }) => {
    const to = msisdn();
    expect(await consentOf(svc, to)).toEqual({ address: to, opted_out: false, kind: null, changed_at: null });
  });

  it("a STOP from a number no identity has stops it, however the number is written; a send agrees", async ({
    svc,
  }) => {
    const to = msisdn();
    // A gateway that gives the number without its + (Vumi), from a number no identity holds.
    const inbound = await call(svc, "admin", "POST", "/api/v1/inbound/", {
      message_id: randomUUID(),
      from_addr: to.slice(1),
      to_addr: "1234",
      content: "STOP",
    });
    expect(inbound.statusCode, inbound.body).toBe(201);
    expect(inbound.json()).toMatchObject({ from_identity: null, keyword: "stop" });
    const stopped = { address: to, opted_out: true, kind: "stop", changed_at: inbound.json().created_at };
    // Asked as stopped, with its +, and with spaces and brackets: one address.
    const spaced = `${to.slice(1, 3)} (${to.slice(3, 5)}) ${to.slice(5, 8)} ${to.slice(8)}`;
    for (const written of [to.slice(1), to, ` ${spaced} `, `+${spaced}`]) {
      expect(await consentOf(svc, written), written).toEqual(stopped);
    }
    // What a send to it does: refused as opted out.
    expect(await sendEnds(svc, to)).toEqual({ status: "failed", reason: "opted_out" });
  });

  it("identity's stopall stops every address of the person (an email in any case); an opt-in lifts one", async ({
    svc,
  }) => {
    const number = msisdn();
    const email = `thandi.${randomUUID().slice(0, 8)}@example.org`;
    const at = new Date(Date.now() - 60_000).toISOString();
    const optout: OptOutCreated = {
      ...catalog["optout.created"].example,
      id: randomUUID(),
      optout_type: "stopall",
      identity: randomUUID(),
      address: "",
      created_at: at,
      identity_details: { addresses: { msisdn: { [number]: { default: true } }, email: { [email]: {} } } },
    };
    await svc.broker.publish("optout.created", optout);
    expect(await once(svc, number, true)).toEqual({
      address: number,
      opted_out: true,
      kind: "stopall",
      changed_at: toSeedTime(new Date(at)),
    });
    expect(await consentOf(svc, ` ${email.toUpperCase()} `)).toEqual({
      address: email,
      opted_out: true,
      kind: "stopall",
      changed_at: toSeedTime(new Date(at)),
    });
    expect(await sendEnds(svc, email.toUpperCase())).toEqual({ status: "failed", reason: "opted_out" });

    const optin: OptInCreated = {
      ...catalog["optin.created"].example,
      id: randomUUID(),
      identity: optout.identity,
      address_type: "msisdn",
      address: number,
      created_at: new Date().toISOString(),
    };
    await svc.broker.publish("optin.created", optin);
    expect(await once(svc, number.slice(1), false)).toEqual({
      address: number,
      opted_out: false,
      kind: "optin",
      changed_at: toSeedTime(new Date(optin.created_at)),
    });
    expect(await sendEnds(svc, number)).toEqual({ status: "delivered", reason: null });
    // The other address stays stopped.
    expect(await consentOf(svc, email)).toMatchObject({ opted_out: true, kind: "stopall" });
  });

  it("400 for no address, an empty or blank one, or one that is neither a phone number nor an email", async ({
    svc,
  }) => {
    for (const url of ["/api/v1/consent/", "/api/v1/consent/?address=", "/api/v1/consent/?address=%20%20"]) {
      const res = await call(svc, "admin", "GET", url);
      expectError(res, 400, "VALIDATION_FAILED");
      expect(res.json().error.details).toEqual([expect.objectContaining({ field: "querystring.address" })]);
    }
    // A national number: no send goes to it either (there is no default country).
    for (const address of ["0821234567", "hello"]) {
      const res = await consent(svc, address);
      expectError(res, 400, "MESSAGE_SENDER_INVALID_ADDRESS");
      expect(res.json().error.details).toEqual([
        { field: "query.address", message: "not a phone number or an email address" },
      ]);
    }
  });

  it("live keys ask about any address, a team key only about its allow-list's, a test key not at all", async ({
    svc,
    keys,
  }) => {
    const allowed = TEAM_ALLOWED.to_addr;
    const other = msisdn();
    await svc.broker.publish("optout.created", {
      ...catalog["optout.created"].example,
      id: randomUUID(),
      optout_type: "stop",
      address: other,
      created_at: new Date().toISOString(),
    });
    await once(svc, other, true);
    expect(await consentOf(svc, other, keys.live)).toMatchObject({ address: other, opted_out: true });
    expect(await consentOf(svc, allowed.slice(1), keys.team)).toMatchObject({
      address: allowed,
      opted_out: false,
    });
    for (const address of [other, msisdn()]) {
      const refused = await consent(svc, address, keys.team);
      expectError(refused, 403, "MESSAGE_SENDER_RECIPIENT_NOT_ALLOWED");
      // Stopped or not, the same answer: the key learns nothing of an address off its list.
      expect(refused.json().error).toMatchObject({
        message: "This team key may not ask about this address",
        details: [{ field: "query.address", message: "not on the key's allow-list" }],
      });
    }
    expectError(await consent(svc, allowed, keys.test), 403, "KEY_KIND_NOT_ALLOWED");
    expectError(
      await svc.app.inject({ method: "GET", url: `/api/v1/consent/?address=${encodeURIComponent(allowed)}` }),
      401,
      "UNAUTHENTICATED",
    );
  });
});
