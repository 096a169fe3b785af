import {
  adminAuth,
  closing,
  sendRaw,
  serviceTest,
  startTestService,
  type TestService,
} from "@tidings/testing";
import twilio from "twilio";
import { describe, expect } from "vitest";
import type { IdentityConfig } from "../../../apps/identity/src/config.ts";
import type { Db } from "../../../apps/identity/src/db.ts";
import { identityService } from "../../../apps/identity/src/service.ts";
import { messageSenderService } from "../../../apps/message-sender/src/service.ts";
import { createTwilioChannel } from "../../../apps/message-sender/test/helpers.ts";

const [SID, TOKEN] = [`AC${"1".repeat(32)}`, "limits-test-token"];

/** Real services' APIs on their own databases, driven as clients and providers would. */
const startSender = () => startTestService(messageSenderService, { env: { PUBLIC_RATE_LIMIT: "5" } });
type Sender = Awaited<ReturnType<typeof startSender>>;
type Identity = TestService<IdentityConfig, Db>;

/** Its tests take `{ svc, sender }`: the identity service and a message-sender limiting public routes to 5 a minute. */
const it = serviceTest(identityService).extend<{ sender: Sender }>({
  sender: [closing(startSender), { scope: "file" }],
});

/** A Twilio status callback from `remoteAddress` (to a channel that does not exist: refused after the limits). */
const callback = (
  sender: Sender,
  remoteAddress: string,
  payload = "MessageSid=SM1&MessageStatus=delivered",
) =>
  sender.app.inject({
    method: "POST",
    url: "/api/v1/events/twilio/NOPE",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    payload,
    remoteAddress,
  });

describe("the per-address limit on public routes (PUBLIC_RATE_LIMIT=5 refused requests a minute)", () => {
  it("answers an address's request after five refused ones in a minute with 429 RATE_LIMITED and Retry-After", async ({
    sender,
  }) => {
    const first = await Promise.all(Array.from({ length: 5 }, () => callback(sender, "198.51.100.1")));
    expect(first.map((r) => r.statusCode)).not.toContain(429);
    const sixth = await callback(sender, "198.51.100.1");
    expect(sixth.statusCode).toBe(429);
    expect(sixth.json().error).toMatchObject({ code: "RATE_LIMITED", requestId: expect.any(String) });
    expect(Number(sixth.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(Number(sixth.headers["retry-after"])).toBeLessThanOrEqual(60);
  });

  it("never limits callbacks it takes: only refused requests count", async ({ sender }) => {
    await createTwilioChannel(sender.app, "LIMITS", { sid: SID, token: TOKEN, url: "http://127.0.0.1:9" });
    const path = "/api/v1/events/twilio/LIMITS";
    const signed = (i: number) => {
      const params = {
        MessageSid: `SM${String(i).padStart(32, "0")}`,
        MessageStatus: "delivered",
        AccountSid: SID,
      };
      return sender.app.inject({
        method: "POST",
        url: path,
        headers: {
          host: "tidings.test",
          "content-type": "application/x-www-form-urlencoded",
          "x-twilio-signature": twilio.getExpectedTwilioSignature(
            TOKEN,
            `http://tidings.test${path}`,
            params,
          ),
        },
        payload: new URLSearchParams(params).toString(),
        remoteAddress: "198.51.100.5",
      });
    };
    // Twenty signed callbacks from one address, four times the limit: each taken.
    const answers = [];
    for (let i = 0; i < 20; i++) {
      answers.push((await signed(i)).statusCode);
    }
    expect(answers).toEqual(answers.map(() => 200));
    // Forged ones from the same address are refused, and after five of them it waits, signed or not.
    const forged = [];
    for (let i = 0; i < 6; i++) {
      forged.push((await callback(sender, "198.51.100.5")).statusCode);
    }
    expect(forged.slice(0, 5)).not.toContain(429);
    expect(forged[5]).toBe(429);
    expect((await signed(99)).statusCode).toBe(429);
  });

  it("counts each address apart, and limits neither health nor an authenticated route's valid requests", async ({
    sender,
  }) => {
    expect((await callback(sender, "198.51.100.2")).statusCode).not.toBe(429);
    for (let i = 0; i < 7; i++) {
      const health = await sender.app.inject({ url: "/api/health/", remoteAddress: "198.51.100.1" });
      expect(health.statusCode).toBe(200);
      const listed = await sender.app.inject({
        url: "/api/v1/outbound/",
        headers: adminAuth,
        remoteAddress: "198.51.100.1",
      });
      expect(listed.statusCode).toBe(200);
    }
  });
});

describe("the per-address limit on bad tokens (PUBLIC_RATE_LIMIT=5 refused requests a minute)", () => {
  it("answers an address 429 after five 401s in a minute, and still serves the valid tokens it verified there", async ({
    sender,
  }) => {
    const address = "198.51.100.7";
    const list = (authorization: string) =>
      sender.app.inject({ url: "/api/v1/outbound/", headers: { authorization }, remoteAddress: address });
    const issued = await sender.app.inject({
      method: "POST",
      url: "/api/v1/user/token/",
      headers: adminAuth,
      payload: { email: "hub@example.org" },
    });
    const token = `Token ${issued.json().token as string}`;
    expect((await list(token)).statusCode).toBe(200);

    const refused = [];
    for (let i = 0; i < 6; i++) {
      refused.push((await list(`Token tdg_guess${i}`)).statusCode);
    }
    expect(refused).toEqual([401, 401, 401, 401, 401, 429]);
    expect((await list("Token tdg_guess6")).headers["retry-after"]).toBeDefined();
    expect((await list(token)).statusCode).toBe(200);
    expect((await list(adminAuth.authorization)).statusCode).toBe(200);
  });
});

describe("the body limit of provider callbacks", () => {
  it("answers a callback over 64 KB with 413 BODY_TOO_LARGE, and takes one just under it", async ({
    sender,
  }) => {
    const big = await callback(sender, "198.51.100.3", `MessageSid=SM1&Body=${"x".repeat(70 * 1024)}`);
    expect(big.statusCode).toBe(413);
    expect(big.json().error).toMatchObject({ code: "BODY_TOO_LARGE", requestId: expect.any(String) });
    const under = await callback(sender, "198.51.100.4", `MessageSid=SM1&Body=${"x".repeat(60 * 1024)}`);
    expect(under.statusCode).not.toBe(413);
  });

  it("refuses a signed Vonage webhook over 64 KB as it arrives, without reading the rest: by its content-length, or once its bytes pass the limit", async ({
    sender,
  }) => {
    const origin = await sender.app.listen({ port: 0, host: "127.0.0.1" });
    const json = { "content-type": "application/json" };
    // Bodies that never end: only an answer before the rest arrives passes (the limit applied after reading
    // everything would wait for ever, holding what came).
    for (const [path, headers, body] of [
      ["/api/v1/events/vonage-whatsapp/NOPE", { ...json, "content-length": String(100 * 1024 * 1024) }, "{"],
      ["/api/v1/events/vonage-voice/NOPE", json, Array.from({ length: 5 }, () => " ".repeat(16 * 1024))],
      ["/api/v1/inbound/vonage-whatsapp/NOPE", json, Array.from({ length: 5 }, () => " ".repeat(16 * 1024))],
    ] as const) {
      const res = await sendRaw(origin, {
        method: "POST",
        path,
        headers,
        body: typeof body === "string" ? body : [...body],
        open: true,
        timeoutMs: 5_000,
      });
      expect({ path, status: res.status }).toEqual({ path, status: 413 });
      expect(JSON.parse(res.body).error).toMatchObject({
        code: "BODY_TOO_LARGE",
        requestId: expect.any(String),
      });
    }
    // One under the limit is read whole (and refused for its unknown channel, not its size).
    const under = await sendRaw(origin, {
      method: "POST",
      path: "/api/v1/events/vonage-whatsapp/NOPE",
      headers: json,
      body: [`{"pad": "${"x".repeat(60 * 1024)}"`, "}"],
    });
    expect(under.status).not.toBe(413);
  });
});

const identityCount = async (svc: Identity) =>
  (await svc.db.$queryRawUnsafe<{ n: number }[]>("SELECT count(*)::int AS n FROM identity"))[0]?.n;

describe("JSON depth", () => {
  it("answers an identity 3,000 levels deep with 400 BODY_TOO_DEEP, and stores nothing", async ({ svc }) => {
    const deep = `${'{"a": '.repeat(3000)}1${"}".repeat(3000)}`;
    const res = await svc.app.inject({
      method: "POST",
      url: "/api/v1/identities/",
      headers: { ...adminAuth, "content-type": "application/json" },
      payload: `{"details": {"addresses": {"msisdn": {"+27820001001": {"default": true}}}, "deep": ${deep}}}`,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: "BODY_TOO_DEEP", requestId: expect.any(String) });
    expect(await identityCount(svc)).toBe(0);
  });
});
