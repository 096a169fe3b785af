import { randomUUID } from "node:crypto";
import { startTwilioSimulator, type TwilioSimulator } from "@tidings/provider-simulators";
import { startTestService, type TestService, waitFor } from "@tidings/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessageSenderConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { createMessageSenderService } from "../src/service.ts";
import { callWithKey, createTwilioChannel, issueKey as issueKeyTo, msisdn } from "./helpers.ts";

// Keys of each kind are issued through POST /api/v1/user/token/ and used on the real routes; the default
// channel is a Twilio channel pointed at the simulator, so any send that reaches a provider is seen there.
const SID = `AC${"7".repeat(32)}`;
const TOKEN = "twilio-key-kinds-token";

let svc: TestService<MessageSenderConfig, Db>;
let sim: TwilioSimulator;

const call = (key: string, method: "GET" | "POST", url: string, payload?: object) =>
  callWithKey(svc, key, method, url, payload);
const issueKey = (kind: "live" | "team" | "test", allowList?: string[]) => issueKeyTo(svc, kind, allowList);

const waitForStatus = (key: string, id: string, status: string) =>
  waitFor(
    async () => {
      const outbound = (await call(key, "GET", `/api/v1/outbound/${id}/`)).json();
      return outbound.status === status && outbound;
    },
    { timeoutMs: 60_000, what: `outbound ${id} to be ${status}` },
  );

const stored = async () => ({
  outbounds: await svc.db.outbound.count(),
  batches: await svc.db.outboundBatch.count(),
});

beforeAll(async () => {
  sim = await startTwilioSimulator({ accounts: { [SID]: TOKEN } });
  svc = await startTestService(createMessageSenderService(), {
    worker: true,
    env: { OUTBOUND_RETRY_DELAYS_MS: "100,300,1000,3000", CHANNEL_CACHE_TTL_MS: "100" },
  });
  await createTwilioChannel(
    svc.app,
    "TWILIO",
    { sid: SID, token: TOKEN, url: sim.url },
    {},
    { default: true },
  );
});
afterAll(async () => {
  await svc?.close();
  await sim?.close();
});

describe("test keys", { timeout: 120_000 }, () => {
  it("go through the whole pipeline to delivered on the log channel, never reaching a provider", async () => {
    const key = await issueKey("test");
    const to = msisdn();
    const res = await call(key, "POST", "/api/v1/outbound/", {
      to_addr: to,
      content: "Your code is 1234",
      metadata: {},
      channel: "TWILIO",
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ channel: "LOG", test: true, status: "queued" });
    const delivered = await waitForStatus(key, res.json().id, "delivered");
    expect(delivered).toMatchObject({
      test: true,
      delivered: true,
      provider_id: expect.stringMatching(/^log-/),
    });

    const batch = await call(key, "POST", "/api/v1/outbound/batch/", {
      content: "Clinic closed on Friday",
      recipients: [{ to_addr: msisdn() }, { to_addr: msisdn() }],
    });
    expect(batch.statusCode).toBe(202);
    expect(batch.json()).toMatchObject({ channel: "LOG", test: true });
    await waitFor(
      async () =>
        (await call(key, "GET", `/api/v1/outbound/batch/${batch.json().id}/`)).json().status_counts
          .delivered === 2,
      { timeoutMs: 60_000, what: "the test batch to be delivered" },
    );

    // The control: a live key's send through the same default channel does reach the simulator.
    const live = await call(await issueKey("live"), "POST", "/api/v1/outbound/", {
      to_addr: msisdn(),
      content: "Live",
      metadata: {},
    });
    expect(live.json()).toMatchObject({ channel: "TWILIO", test: false });
    await waitFor(() => sim.requests.some((r) => r.Body === "Live"), {
      what: "the live send at the simulator",
    });
    expect(sim.requests.filter((r) => r.Body !== "Live")).toEqual([]);
    expect(sim.requests.some((r) => r.To === to)).toBe(false);
  });
});

describe("team keys", { timeout: 120_000 }, () => {
  it("send only to the addresses and identities on their allow-list; 403 naming the recipient otherwise", async () => {
    const allowed = msisdn();
    const identity = randomUUID();
    const key = await issueKey("team", [allowed, "Team@Example.org", identity]);
    const before = await stored();

    const other = await call(key, "POST", "/api/v1/outbound/", {
      to_addr: msisdn(),
      content: "Hi",
      metadata: {},
    });
    expect(other.statusCode).toBe(403);
    expect(other.json().error).toMatchObject({
      code: "MESSAGE_SENDER_RECIPIENT_NOT_ALLOWED",
      message: "This team key may not send to this to_addr",
      details: [{ field: "body.to_addr", message: "not on the key's allow-list" }],
    });
    const otherIdentity = await call(key, "POST", "/api/v1/outbound/", {
      to_identity: randomUUID(),
      content: "Hi",
      metadata: {},
    });
    expect(otherIdentity.statusCode).toBe(403);
    expect(otherIdentity.json().error.details).toEqual([
      { field: "body.to_identity", message: "not on the key's allow-list" },
    ]);
    const batch = await call(key, "POST", "/api/v1/outbound/batch/", {
      content: "Hi",
      recipients: [
        { to_addr: allowed },
        { to_addr: msisdn() },
        { to_identity: identity },
        { to_identity: randomUUID() },
      ],
    });
    expect(batch.statusCode).toBe(403);
    expect(batch.json().error).toMatchObject({
      code: "MESSAGE_SENDER_RECIPIENT_NOT_ALLOWED",
      message: "This team key may not send to recipients 1, 3",
      details: [
        { field: "body.recipients[1].to_addr", message: "not on the key's allow-list" },
        { field: "body.recipients[3].to_identity", message: "not on the key's allow-list" },
      ],
    });
    expect(await stored()).toEqual(before);

    const ok = await call(key, "POST", "/api/v1/outbound/", {
      to_addr: allowed,
      content: "Hi",
      metadata: {},
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ channel: "TWILIO", test: false });
    const email = await call(key, "POST", "/api/v1/outbound/", {
      to_addr: "team@example.org",
      content: "Hi",
      metadata: {},
      channel: "LOG",
    });
    expect(email.statusCode).toBe(201);
    const okBatch = await call(key, "POST", "/api/v1/outbound/batch/", {
      content: "Hi",
      channel: "LOG",
      recipients: [{ to_addr: allowed }, { to_identity: identity }],
    });
    expect(okBatch.statusCode).toBe(202);
  });
});
