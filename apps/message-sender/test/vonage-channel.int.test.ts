import {
  VONAGE_ERRORS,
  type VonageSignatureMethod,
  type VonageSimulator,
  vonageSignature,
} from "@tidings/provider-simulators";
import { waitFor } from "@tidings/testing";
import { Vonage } from "@vonage/server-sdk";
import { describe, expect } from "vitest";
import { msisdn, withoutMessageIds } from "./helpers.ts";
import { call, type Svc, waitForStatus } from "./support.ts";
import { createChannel, vonageTest as it, KEY, SECRET, SIG_SECRET, send } from "./vonage-support.ts";

describe("the vonage channel", () => {
  it("sends through the SDK with the outbound id as client-ref and is delivered by the signed receipt", async ({
    svc,
    sim,
  }) => {
    const { id, to } = await send(svc);
    const delivered = await waitForStatus(svc, id, "delivered");
    const message = sim.messages.find((m) => m.to === to.slice(1));
    expect(message).toMatchObject({ from: "Tidings", text: "Hello", clientRef: id });
    expect(delivered).toMatchObject({ provider_id: message?.messageId, to_addr: "", delivered: true });
    // The simulator records a callback once it has read the answer: after the change it caused.
    await expect
      .poll(() =>
        sim.callbacks.filter((c) => c.params.messageId === message?.messageId).map((c) => c.responseStatus),
      )
      .toEqual([200, 200]);
    // A replayed failure changes nothing.
    expect(await sim.sendReceipt(message!.messageId, "failed", "6")).toBe(200);
    expect((await call(svc, "GET", `/api/v1/outbound/${id}/`)).json().status).toBe("delivered");
  });

  it("fails at once on a rejection (status 3) and retries an internal error (status 5)", async ({
    svc,
    sim,
  }) => {
    sim.failNext(VONAGE_ERRORS.invalidTo());
    const rejected = await send(svc);
    expect((await waitForStatus(svc, rejected.id, "failed")).last_error).toBe("vonage 3: Invalid to address");
    sim.failNext(VONAGE_ERRORS.internal());
    const retried = await send(svc);
    await waitForStatus(svc, retried.id, "delivered");
    expect(sim.requests.filter((r) => r.to === retried.to.slice(1))).toHaveLength(2);
  });

  it("keeps the claim of a send that got no answer instead of sending it again at once", async ({
    svc,
    sim,
  }) => {
    // A 300 ms request timeout against a simulator that takes 1 s to accept: Vonage may accept the message after
    // the worker gave up (here it does), so the retry waits out the claim (30 s here).
    await createChannel(svc, sim, "VON_SLOW", { signature_secret: undefined, timeout_ms: 300 });
    sim.configure({ acceptDelayMs: 1_000 });
    try {
      const { id, to } = await send(svc, msisdn(), "VON_SLOW");
      const held = await waitFor(
        async () => {
          const row = await svc.db.outbound.findUniqueOrThrow({ where: { id } });
          return row.lastError?.startsWith("vonage: no answer") && row;
        },
        { what: "the send to time out" },
      );
      expect(held).toMatchObject({ status: "queued", providerId: null });
      expect(held.claimedBy).not.toBeNull();
      expect(held.claimedUntil!.getTime()).toBeGreaterThan(Date.now() + 20_000);
      // Retried at once (100 ms here), the message would have been sent a second time by now.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(sim.requests.filter((r) => r.to === to.slice(1))).toHaveLength(1);
      expect(sim.messages.filter((m) => m.to === to.slice(1))).toHaveLength(1);
    } finally {
      sim.configure({ acceptDelayMs: 0 });
    }
  });

  it("refuses an unsigned or forged receipt with 403", async ({ svc }) => {
    const params = {
      messageId: "0A0000001234",
      status: "delivered",
      msisdn: "27820000000",
      timestamp: String(Math.floor(Date.now() / 1000)),
    };
    const post = (body: Record<string, string>) =>
      svc.app.inject({
        method: "POST",
        url: "/api/v1/events/vonage/VON",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        payload: new URLSearchParams(body).toString(),
      });
    expect((await post(params)).statusCode).toBe(403);
    expect((await post({ ...params, sig: vonageSignature(params, "wrong-secret") })).statusCode).toBe(403);
    const sig = vonageSignature(params, SIG_SECRET);
    // A signature of another length (cut short, or not hex) is refused, not an error.
    for (const bad of [sig.slice(0, -2), `${sig}00`, `${sig.slice(0, -1)}z`]) {
      expect((await post({ ...params, sig: bad })).statusCode).toBe(403);
    }
    const kept = () =>
      svc.db.outboundPart.count({ where: { providerId: "0A0000001234", mainProviderId: null } });
    expect(await kept()).toBe(0);
    // Hex in upper case is the same signature.
    const good = await post({ ...params, sig: sig.toUpperCase() });
    expect(good.statusCode).toBe(200);
    // No send has recorded that id yet: kept as a part report no send has claimed (an orphan).
    expect(await kept()).toBe(1);
  });

  it("stores a signed inbound SMS once, with its keyword, and refuses a forged one", async ({
    svc,
    sim,
    base,
  }) => {
    const url = `${base}/api/v1/inbound/vonage/VON`;
    const from = msisdn();
    const first = await sim.sendInbound({ url, from, to: "Tidings", text: "STOP" });
    expect(first.status).toBe(200);
    expect(
      (await sim.sendInbound({ url, from, to: "Tidings", text: "STOP", messageId: first.messageId })).status,
    ).toBe(200);
    const rows = await svc.db.inbound.findMany({ where: { messageId: first.messageId } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ channel: "VON", fromAddr: from, keyword: "stop", content: "STOP" });
    const forged = await svc.app.inject({
      method: "POST",
      url: "/api/v1/inbound/vonage/VON",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({
        msisdn: "27820000000",
        to: "x",
        messageId: "FORGED1",
        text: "START",
        sig: "0",
      }).toString(),
    });
    expect(forged.statusCode).toBe(403);
    expect(await svc.db.inbound.count({ where: { messageId: "FORGED1" } })).toBe(0);
  });
});

describe("signed webhooks", () => {
  const inbound = async (svc: Svc, sim: VonageSimulator, base: string, channel: string) => {
    const from = msisdn();
    const { status, messageId } = await sim.sendInbound({
      url: `${base}/api/v1/inbound/vonage/${channel}`,
      from,
      to: "Tidings",
      text: "hello",
    });
    return { status, stored: await svc.db.inbound.count({ where: { messageId } }) };
  };

  it.for<VonageSignatureMethod>(["md5hash", "md5", "sha1", "sha256", "sha512"])(
    "are verified with the channel's signature method %s, and refused with another",
    async (method, { svc, sim, base }) => {
      const channel = `VON_${method.toUpperCase()}`;
      await createChannel(svc, sim, channel, method === "md5hash" ? {} : { signature_method: method });
      sim.configure({ signatureMethod: method });
      try {
        expect(await inbound(svc, sim, base, channel)).toEqual({ status: 200, stored: 1 });
        // The simulator signs as the Vonage SDK verifies.
        const params = { msisdn: "27820000000", text: "x", timestamp: "1700000000" };
        const algorithm = method === "md5hash" ? "MD5HASH" : `${method.toUpperCase()}HMAC`;
        expect(
          new Vonage({ apiKey: KEY, apiSecret: SECRET }).sms.verifySignature(
            vonageSignature(params, SIG_SECRET, method),
            params,
            SIG_SECRET,
            algorithm as never,
          ),
        ).toBe(true);
        sim.configure({ signatureMethod: method === "sha256" ? "md5hash" : "sha256" });
        expect(await inbound(svc, sim, base, channel)).toEqual({ status: 403, stored: 0 });
      } finally {
        sim.configure({ signatureMethod: "md5hash" });
      }
    },
  );

  it("are refused when signed outside the time window (VONAGE_SIGNATURE_MAX_SKEW_MS, 5 minutes)", async ({
    svc,
    sim,
    base,
  }) => {
    try {
      for (const [offset, expected] of [
        [-6 * 60_000, { status: 403, stored: 0 }],
        [6 * 60_000, { status: 403, stored: 0 }],
        [-4 * 60_000, { status: 200, stored: 1 }],
      ] as const) {
        sim.configure({ clockOffsetMs: offset });
        expect(await inbound(svc, sim, base, "VON")).toEqual(expected);
      }
    } finally {
      sim.configure({ clockOffsetMs: 0 });
    }
  });
});

describe("a provider's answers", () => {
  it("status 7 (number barred: the recipient opted out) fails the outbound with reason opted_out, not retried", async ({
    svc,
    sim,
  }) => {
    sim.failNext(VONAGE_ERRORS.barred());
    const { id, to } = await send(svc);
    expect(await waitForStatus(svc, id, "failed")).toMatchObject({
      last_error: "opted_out",
      provider_id: null,
    });
    await new Promise((r) => setTimeout(r, 1_000)); // past the first retry delays (100, 300 ms)
    expect(sim.requests.filter((r) => r.to === to.slice(1))).toHaveLength(1);
  });

  it("an acceptance without a message id is a send: submitted with no provider id, never sent again", async ({
    svc,
    sim,
  }) => {
    const sent = await withoutMessageIds(sim, async () => {
      const sent = await send(svc);
      expect(await waitForStatus(svc, sent.id, "submitted")).toMatchObject({
        provider_id: null,
        attempts: 1,
        last_error: "vonage accepted the message but returned no message id",
      });
      return sent;
    });
    await new Promise((r) => setTimeout(r, 2_000)); // past the retry delays (100, 300, 1000 ms)
    expect(sim.requests.filter((r) => r.to === sent.to.slice(1))).toHaveLength(1);
    expect((await call(svc, "GET", `/api/v1/outbound/${sent.id}/`)).json().status).toBe("submitted");
  });
});
