import { setTimeout as sleep } from "node:timers/promises";
import { OUTBOX_MESSAGES } from "@tidings/amqp";
import { type Api, buildServiceApi } from "@tidings/service-kit";
import { adminAuth, closeAfter, expectError, serviceTest } from "@tidings/testing";
import twilio from "twilio";
import { describe, expect } from "vitest";
import type { Db } from "../src/db.ts";
import { createMessageSenderService } from "../src/service.ts";
import { msisdn } from "./helpers.ts";

// The API caches the channel table (CHANNEL_CACHE_TTL_MS). Two API instances on one database stand for two
// API processes: `svc` changes channels through its API, `other` only reads them through its own cache.
const TTL_MS = 3_000;
const SID = `AC${"3".repeat(32)}`;

// A TTL far longer than the test: whatever `svc` sees at once, it sees because its own change cleared its cache.
const it = serviceTest(createMessageSenderService(), { env: { CHANNEL_CACHE_TTL_MS: "600000" } }).extend<{
  other: Api;
}>({
  other: [
    async ({ svc }, use) =>
      closeAfter(
        await buildServiceApi(createMessageSenderService(), {
          ...svc,
          config: { ...svc.config, CHANNEL_CACHE_TTL_MS: TTL_MS },
        }),
        use,
      ),
    { scope: "file" },
  ],
});

const call = (app: Api, method: "POST" | "PATCH" | "DELETE", url: string, payload?: object) =>
  app.inject({ method, url, headers: adminAuth, ...(payload ? { payload } : {}) });

const send = (app: Api, channel?: string) =>
  call(app, "POST", "/api/v1/outbound/", {
    to_addr: msisdn(),
    content: "hello",
    metadata: {},
    ...(channel ? { channel } : {}),
  });

/** The channel a send without one goes through, as `app` resolves it. */
const defaultOf = async (app: Api) => {
  const res = await send(app);
  expect(res.statusCode).toBe(201);
  return res.json().channel as string;
};

const twilioChannel = (channel_id: string, auth_token: string, extra: object = {}) => ({
  channel_id,
  channel_type: "twilio",
  configuration: { account_sid: SID, auth_token, from: "+15005550006" },
  ...extra,
});

describe("the API's channel cache", () => {
  it("sees a channel created, made default or deleted through the same process at once", async ({ svc }) => {
    expect(await defaultOf(svc.app)).toBe("LOG"); // the cache now holds the table

    expect((await call(svc.app, "POST", "/api/v1/channel/", twilioChannel("TW_A", "a"))).statusCode).toBe(
      201,
    );
    expect((await send(svc.app, "TW_A")).statusCode).toBe(201);

    expect((await call(svc.app, "PATCH", "/api/v1/channel/TW_A/", { default: true })).statusCode).toBe(200);
    expect(await defaultOf(svc.app)).toBe("TW_A");

    expect((await call(svc.app, "PATCH", "/api/v1/channel/LOG/", { default: true })).statusCode).toBe(200);
    expect(await defaultOf(svc.app)).toBe("LOG");

    expect((await call(svc.app, "DELETE", "/api/v1/channel/TW_A/")).statusCode).toBe(204);
    const refused = await send(svc.app, "TW_A");
    expectError(refused, 400, "MESSAGE_SENDER_UNKNOWN_CHANNEL");
  });

  it("in another process: a new channel is usable at once, a new default is seen within the TTL", async ({
    svc,
    other,
  }) => {
    expect(await defaultOf(other)).toBe("LOG");

    // Made by the other process: unknown to this one's cache, so it reads the table again at once.
    expect(
      (await call(svc.app, "POST", "/api/v1/channel/", twilioChannel("TW_B", "b", { default: true })))
        .statusCode,
    ).toBe(201);
    expect((await send(other, "TW_B")).statusCode).toBe(201);

    // The default moved back to LOG elsewhere: this process keeps the cached default until the TTL passes.
    expect((await call(svc.app, "PATCH", "/api/v1/channel/LOG/", { default: true })).statusCode).toBe(200);
    expect(await defaultOf(other)).toBe("TW_B");
    await sleep(TTL_MS + 100);
    expect(await defaultOf(other)).toBe("LOG");
  });

  it("verifies a status callback with an auth token changed by another process once the TTL passed", async ({
    svc,
    other,
  }) => {
    expect(
      (await call(svc.app, "POST", "/api/v1/channel/", twilioChannel("TW_C", "old-token"))).statusCode,
    ).toBe(201);
    await sleep(TTL_MS + 100); // callbacks never read the table on their own: the next read is the TTL's
    expect((await twilioCallback(other, "TW_C", "old-token")).statusCode).toBe(200);

    const patched = await call(svc.app, "PATCH", "/api/v1/channel/TW_C/", {
      configuration: { auth_token: "new-token" },
    });
    expect(patched.statusCode).toBe(200);
    // Until the TTL passes, `other` checks callbacks with the token it has.
    expect((await twilioCallback(other, "TW_C", "new-token")).statusCode).toBe(403);
    await sleep(TTL_MS + 100);
    expect((await twilioCallback(other, "TW_C", "new-token")).statusCode).toBe(200);
    const forged = await twilioCallback(other, "TW_C", "old-token");
    expectError(forged, 403, "MESSAGE_SENDER_INVALID_SIGNATURE");
  });

  it("answers provider callbacks, forged or for unknown channels, without reading the database", async ({
    svc,
  }) => {
    expect(
      (await call(svc.app, "POST", "/api/v1/channel/", twilioChannel("TW_D", "d-token"))).statusCode,
    ).toBe(201);
    expect(
      (
        await call(svc.app, "POST", "/api/v1/channel/", {
          channel_id: "VON_D",
          channel_type: "vonage",
          configuration: { api_key: "k", api_secret: "s", from: "T", signature_secret: "sig-secret" },
        })
      ).statusCode,
    ).toBe(201);
    const { db, calls } = countingDb(svc.db);
    // A TTL far longer than the test: after the first read, any read is one a callback made.
    const api = await buildServiceApi(createMessageSenderService(), {
      ...svc,
      db,
      config: { ...svc.config, CHANNEL_CACHE_TTL_MS: 600_000 },
    });
    try {
      expect((await twilioCallback(api, "TW_D", "wrong-token")).statusCode).toBe(403); // warms the cache
      calls.length = 0;
      const vonage = (channel: string, sig: string) =>
        api.inject({
          method: "POST",
          url: `/api/v1/events/vonage/${channel}`,
          headers: { "content-type": "application/x-www-form-urlencoded" },
          payload: new URLSearchParams({ messageId: "X1", status: "delivered", msisdn: "1", sig }).toString(),
        });
      const answers = [];
      for (let i = 0; i < 20; i++) {
        answers.push((await twilioCallback(api, "TW_D", `forged-${i}`)).statusCode);
        answers.push((await twilioCallback(api, `NOPE_${i}`, "d-token")).statusCode);
        answers.push((await vonage("VON_D", "00".repeat(16))).statusCode);
        answers.push((await vonage(`NOPE_${i}`, "00".repeat(16))).statusCode);
      }
      expect(new Set(answers)).toEqual(new Set([403, 404]));
      expect(calls).toEqual([]);
    } finally {
      await api.close();
    }
  });
});

/** Posts a Twilio status callback to `app`, signed with `token`. */
function twilioCallback(app: Api, channel: string, token: string) {
  const path = `/api/v1/events/twilio/${channel}`;
  const params = { MessageSid: `SM${"c".repeat(32)}`, MessageStatus: "delivered", AccountSid: SID };
  return app.inject({
    method: "POST",
    url: path,
    headers: {
      host: "tidings.test",
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": twilio.getExpectedTwilioSignature(token, `http://tidings.test${path}`, params),
    },
    payload: new URLSearchParams(params).toString(),
  });
}

/** `db` with every call of its methods and of its models' methods recorded in `calls` (`channel.findMany`). */
function countingDb(db: Db): { db: Db; calls: string[] } {
  const calls: string[] = [];
  const recording = <T extends object>(target: T, prefix: string): T =>
    new Proxy(target, {
      get(object, prop) {
        const value = Reflect.get(object, prop, object) as unknown;
        const name = `${prefix}${String(prop)}`;
        if (typeof value === "function") {
          return (...args: unknown[]) => {
            calls.push(name);
            return (value as (...a: unknown[]) => unknown).apply(object, args);
          };
        }
        return value && typeof value === "object" && typeof prop === "string" && !prop.startsWith("$")
          ? recording(value, `${name}.`)
          : value;
      },
    });
  return { db: recording(db, ""), calls };
}

describe("POST /api/v1/outbound/ in one statement", () => {
  it("answers with exactly the stored outbound, and enqueues its outbound.send", async ({ svc }) => {
    const res = await call(svc.app, "POST", "/api/v1/outbound/", {
      to_addr: msisdn(),
      content: "stored as answered",
      metadata: { campaign: "x", nested: { a: [1, 2] } },
      resend: true,
      priority: "high",
      sending_window: { start: "08:00", end: "20:00", timezone: "Africa/Johannesburg" },
      not_before: "2030-01-02T03:04:05.678Z",
      ttl_seconds: 3600,
      version: 2,
    });
    expect(res.statusCode).toBe(201);
    const answered = res.json();
    const stored = await svc.app.inject({
      method: "GET",
      url: `/api/v1/outbound/${answered.id}/`,
      headers: adminAuth,
    });
    expect(stored.json()).toEqual(answered);
    const [outbox] = await svc.db.$queryRawUnsafe<{ name: string; payload: Record<string, unknown> }[]>(
      `SELECT name, payload FROM ${OUTBOX_MESSAGES} WHERE id = $1::uuid`,
      answered.id,
    );
    expect(outbox).toEqual({
      name: "outbound.send",
      payload: {
        id: answered.id,
        to_addr: answered.to_addr,
        content: "stored as answered",
        channel: "LOG",
        metadata: { campaign: "x", nested: { a: [1, 2] } },
        resend: true,
        priority: "high",
        sending_window: answered.sending_window,
        not_before: "2030-01-02T03:04:05.678Z",
        // The command keeps toISOString()'s form; the answer has Seed's (toSeedTime).
        expires_at: new Date(answered.expires_at).toISOString(),
      },
    });
  });
});
