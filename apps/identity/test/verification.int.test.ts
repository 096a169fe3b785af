import type { IdentityChanged, OutboundSend } from "@tidings/contracts";
import { type Capture, expectError, serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { identityService } from "../src/service.ts";
import { create, msisdn, type Svc, send } from "./helpers.ts";

const it = serviceTest(
  identityService,
  {
    worker: true,
    env: { VERIFICATION_MAX_ATTEMPTS: "3", VERIFICATION_MAX_CODES_PER_HOUR: "3" },
  },
  ["outbound.send", "identity.updated"],
);

async function issue(svc: Svc, capture: Capture, identity: string, address: string, address_type = "msisdn") {
  const sentTo = () =>
    capture
      .named<OutboundSend>("outbound.send")
      .filter((m) => m.to_identity === identity && m.to_addr === address);
  const before = sentTo().length;
  const res = await send(svc, "POST", `/api/v1/identities/${identity}/verify/`, { address_type, address });
  expect(res.statusCode).toBe(202);
  const sent = await waitFor(() => sentTo().length > before && sentTo().at(-1), { what: "outbound.send" });
  // High priority (it overtakes bulk sends and quiet hours), and it expires with the code.
  expect(sent.priority).toBe("high");
  // Sensitive: message-sender masks it in its answers and clears it once sent.
  expect(sent.sensitive).toBe(true);
  expect(Date.parse(sent.expires_at ?? "")).toBe(Date.parse(res.json().expires_at));
  return /(\d{6})/.exec(sent.content ?? "")?.[1] as string;
}

const confirm = (svc: Svc, identity: string, address: string, code: string, address_type = "msisdn") =>
  send(svc, "POST", `/api/v1/identities/${identity}/verify/confirm/`, { address_type, address, code });

describe("contact verification", () => {
  it("sends a code through outbound.send, stores it hashed, and a right code marks the address verified", async ({
    svc,
    capture,
  }) => {
    const a = msisdn(30);
    const identity = await create(svc, { details: { addresses: { msisdn: { [a]: {} } } } });
    const code = await issue(svc, capture, identity.id, a);
    expect(code).toMatch(/^\d{6}$/);
    const stored = await svc.db.verificationCode.findFirstOrThrow({ where: { identityId: identity.id } });
    expect(JSON.stringify(stored)).not.toContain(code);
    const wrong = await confirm(svc, identity.id, a, code === "000000" ? "111111" : "000000");
    expectError(wrong, 400, "IDENTITY_VERIFICATION_INVALID");
    const right = await confirm(svc, identity.id, a, code);
    expect(right.statusCode).toBe(200);
    expect(right.json()).toEqual({ verified: true });
    const after = await svc.db.identity.findUniqueOrThrow({ where: { id: identity.id } });
    expect(
      (after.details as { addresses: Record<string, Record<string, unknown>> }).addresses.msisdn?.[a],
    ).toEqual({
      verified: true,
    });
    const event = await waitFor(
      () => capture.named<IdentityChanged>("identity.updated").find((e) => e.id === identity.id),
      { what: "identity.updated" },
    );
    expect(event.addresses[0]?.verified).toBe(true);
    expect((await confirm(svc, identity.id, a, code)).statusCode).toBe(400);
  });

  it("answers 429 after too many attempts, even for the right code", async ({ svc, capture }) => {
    const a = msisdn(31);
    const identity = await create(svc, { details: { addresses: { msisdn: { [a]: {} } } } });
    const code = await issue(svc, capture, identity.id, a);
    const wrongCode = code === "999999" ? "888888" : "999999";
    for (let i = 0; i < 3; i++) {
      expect((await confirm(svc, identity.id, a, wrongCode)).statusCode).toBe(400);
    }
    const blocked = await confirm(svc, identity.id, a, code);
    expectError(blocked, 429, "IDENTITY_TOO_MANY_ATTEMPTS");
    const row = await svc.db.identity.findUniqueOrThrow({ where: { id: identity.id } });
    expect(JSON.stringify(row.details)).not.toContain("verified");
  });

  it("an expired code is refused; a new code replaces the old one", async ({ svc, capture }) => {
    const a = msisdn(32);
    const identity = await create(svc, { details: { addresses: { msisdn: { [a]: {} } } } });
    const first = await issue(svc, capture, identity.id, a);
    await svc.db.verificationCode.updateMany({
      where: { identityId: identity.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const expired = await confirm(svc, identity.id, a, first);
    expectError(expired, 400, "IDENTITY_VERIFICATION_EXPIRED");
    const second = await issue(svc, capture, identity.id, a);
    expect((await confirm(svc, identity.id, a, second)).statusCode).toBe(200);
  });

  it("limits codes per address per hour with 429", async ({ svc, capture }) => {
    const a = msisdn(33);
    const identity = await create(svc, { details: { addresses: { msisdn: { [a]: {} } } } });
    for (let i = 0; i < 3; i++) {
      await issue(svc, capture, identity.id, a);
    }
    const res = await send(svc, "POST", `/api/v1/identities/${identity.id}/verify/`, {
      address_type: "msisdn",
      address: a,
    });
    expectError(res, 429, "IDENTITY_TOO_MANY_CODES");
  });

  it("refuses an address the identity lacks (400) and an unknown identity (404), sending nothing", async ({
    svc,
  }) => {
    const identity = await create(svc, { details: { addresses: { msisdn: { [msisdn(34)]: {} } } } });
    const other = msisdn(34);
    const lacking = await send(svc, "POST", `/api/v1/identities/${identity.id}/verify/`, {
      address_type: "msisdn",
      address: other,
    });
    expectError(lacking, 400, "IDENTITY_ADDRESS_NOT_ON_IDENTITY");
    const unknown = await send(
      svc,
      "POST",
      "/api/v1/identities/00000000-0000-4000-8000-000000000000/verify/",
      {
        address_type: "msisdn",
        address: other,
      },
    );
    expect(unknown.statusCode).toBe(404);
    expect(await svc.db.verificationCode.count({ where: { identityId: identity.id } })).toBe(0);
    expect(await svc.db.outboxMessage.count({ where: { name: "outbound.send" } })).toBe(0);
  });
});
