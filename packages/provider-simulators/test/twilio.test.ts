import twilio from "twilio";
import { describe, expect } from "vitest";
import { startTwilioSimulator, TWILIO_ERRORS } from "../src/index.ts";
import { simulatorTest } from "./support.ts";
import { ToSimulator } from "./to-simulator.ts";

const SID = `AC${"1".repeat(32)}`;
const TOKEN = "simulated-auth-token";

const it = simulatorTest(() => startTwilioSimulator({ accounts: { [SID]: TOKEN }, callbackIntervalMs: 5 }), {
  path: "/status?channel=TW",
  status: 204,
  record: (params, headers) => ({ signature: String(headers["x-twilio-signature"]), params }),
}).extend<{ client: (token?: string) => twilio.Twilio }>({
  client: [
    async ({ sim }, use) =>
      use((token = TOKEN) => twilio(SID, token, { httpClient: new ToSimulator(sim.url) })),
    { scope: "file" },
  ],
});

describe("twilio simulator", () => {
  it("accepts a message from the SDK, answers Twilio's shape, and sends signed callbacks", async ({
    sim,
    client,
    callbackUrl,
    received,
  }) => {
    const message = await client().messages.create({
      to: "+27820000001",
      from: "+15005550006",
      body: "hello",
      statusCallback: callbackUrl,
    });
    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(message.status).toBe("queued");
    expect(message.accountSid).toBe(SID);
    expect(message.to).toBe("+27820000001");
    expect(sim.messages.at(-1)).toMatchObject({ sid: message.sid, body: "hello", from: "+15005550006" });
    await expect.poll(() => received.filter((r) => r.params.MessageSid === message.sid).length).toBe(2);
    const mine = received.filter((r) => r.params.MessageSid === message.sid);
    expect(mine.map((r) => r.params.MessageStatus)).toEqual(["sent", "delivered"]);
    for (const { signature, params } of mine) {
      expect(twilio.validateRequest(TOKEN, signature, callbackUrl, params)).toBe(true);
      expect(twilio.validateRequest("another-token", signature, callbackUrl, params)).toBe(false);
    }
    const fetched = await client().messages(message.sid).fetch();
    expect(fetched.status).toBe("delivered");
  });

  it("rejects an invalid number with 21211 and bad credentials with 20003", async ({ client }) => {
    await expect(
      client().messages.create({ to: "12", from: "+15005550006", body: "x" }),
    ).rejects.toMatchObject({
      status: 400,
      code: 21211,
    });
    await expect(
      client("wrong").messages.create({ to: "+27820000001", from: "+15005550006", body: "x" }),
    ).rejects.toMatchObject({ status: 401, code: 20003 });
  });

  it("injects throttling and outages, then accepts again", async ({ sim, client }) => {
    sim.failNext(TWILIO_ERRORS.throttled());
    sim.failNext(TWILIO_ERRORS.serverError());
    const send = () => client().messages.create({ to: "+27820000002", from: "+15005550006", body: "x" });
    await expect(send()).rejects.toMatchObject({ status: 429, code: 20429 });
    await expect(send()).rejects.toMatchObject({ status: 500 });
    await expect(send()).resolves.toMatchObject({ status: "queued" });
  });

  it("reports the configured final status with an error code", async ({
    sim,
    client,
    callbackUrl,
    received,
  }) => {
    sim.configure({ finalStatus: () => "undelivered" });
    const message = await client().messages.create({
      to: "+27820000003",
      from: "+15005550006",
      body: "x",
      statusCallback: callbackUrl,
    });
    await expect
      .poll(() =>
        received.find((r) => r.params.MessageSid === message.sid && r.params.MessageStatus !== "sent"),
      )
      .toMatchObject({ params: { MessageStatus: "undelivered", ErrorCode: "30003" } });
    sim.configure({ finalStatus: undefined });
  });

  it("follows a number's script: a failure with its code (also in the lookup), then none, then the default", async ({
    sim,
    client,
    callbackUrl,
    received,
  }) => {
    const to = "+27820000005";
    sim.script(to, [{ status: "undelivered", errorCode: 30005 }, "none"]);
    const send = () =>
      client().messages.create({ to, from: "+15005550006", body: "x", statusCallback: callbackUrl });
    const statuses = (sid: string) =>
      received
        .filter((r) => r.params.MessageSid === sid)
        .map((r) => [r.params.MessageStatus, r.params.ErrorCode]);
    const [failed, silent, normal] = [await send(), await send(), await send()];
    await expect
      .poll(() => statuses(failed.sid))
      .toEqual([
        ["sent", undefined],
        ["undelivered", "30005"],
      ]);
    await expect
      .poll(() => statuses(normal.sid))
      .toEqual([
        ["sent", undefined],
        ["delivered", undefined],
      ]);
    expect(statuses(silent.sid)).toEqual([["sent", undefined]]);
    expect(await client().messages(failed.sid).fetch()).toMatchObject({
      status: "undelivered",
      errorCode: 30005,
    });
    expect(await client().messages(silent.sid).fetch()).toMatchObject({ status: "sent", errorCode: null });
    expect(sim.lookups).toEqual(expect.arrayContaining([failed.sid, silent.sid]));
  });

  it("adds latency", async ({ sim, client }) => {
    sim.configure({ latencyMs: 300 });
    const started = Date.now();
    await client().messages.create({ to: "+27820000004", from: "+15005550006", body: "x" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    sim.configure({ latencyMs: 0 });
  });
});
