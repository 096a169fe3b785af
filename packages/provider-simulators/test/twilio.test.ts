import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTwilioSimulator, TWILIO_ERRORS, type TwilioSimulator } from "../src/index.ts";
import { ToSimulator } from "./to-simulator.ts";

const SID = `AC${"1".repeat(32)}`;
const TOKEN = "simulated-auth-token";

let sim: TwilioSimulator;
let receiver: Server;
let callbackUrl: string;
const received: { signature: string; params: Record<string, string> }[] = [];

beforeAll(async () => {
  sim = await startTwilioSimulator({ accounts: { [SID]: TOKEN }, callbackIntervalMs: 5 });
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      received.push({
        signature: String(req.headers["x-twilio-signature"]),
        params: Object.fromEntries(new URLSearchParams(body)),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/status?channel=TW`;
});
afterAll(async () => {
  await sim?.close();
  receiver?.close();
});

const client = (token = TOKEN) => twilio(SID, token, { httpClient: new ToSimulator(sim.url) });

describe("twilio simulator", () => {
  it("accepts a message from the SDK, answers Twilio's shape, and sends signed callbacks", async () => {
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

  it("rejects an invalid number with 21211 and bad credentials with 20003", async () => {
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

  it("injects throttling and outages, then accepts again", async () => {
    sim.failNext(TWILIO_ERRORS.throttled());
    sim.failNext(TWILIO_ERRORS.serverError());
    const send = () => client().messages.create({ to: "+27820000002", from: "+15005550006", body: "x" });
    await expect(send()).rejects.toMatchObject({ status: 429, code: 20429 });
    await expect(send()).rejects.toMatchObject({ status: 500 });
    await expect(send()).resolves.toMatchObject({ status: "queued" });
  });

  it("reports the configured final status with an error code", async () => {
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

  it("follows a number's script: a failure with its code (also in the lookup), then none, then the default", async () => {
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

  it("adds latency", async () => {
    sim.configure({ latencyMs: 300 });
    const started = Date.now();
    await client().messages.create({ to: "+27820000004", from: "+15005550006", body: "x" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    sim.configure({ latencyMs: 0 });
  });
});
