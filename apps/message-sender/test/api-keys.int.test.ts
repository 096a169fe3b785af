import { randomUUID } from "node:crypto";
import { serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { createMessageSenderService } from "../src/service.ts";
import { callWithKey, createTwilioChannel, issueKey, msisdn } from "./helpers.ts";
import { type Svc, stored, type TwilioFixtures, twilioSetUp, twilioSimulator } from "./support.ts";

// Keys of each kind are issued through POST /api/v1/user/token/ and used on the real routes; the default
// channel is a Twilio channel pointed at the simulator, so any send that reaches a provider is seen there.
const SID = `AC${"7".repeat(32)}`;
const TOKEN = "twilio-key-kinds-token";

const it = serviceTest(createMessageSenderService(), {
  worker: true,
  env: { OUTBOUND_RETRY_DELAYS_MS: "100,300,1000,3000", CHANNEL_CACHE_TTL_MS: "100" },
}).extend<TwilioFixtures>({
  sim: twilioSimulator({ accounts: { [SID]: TOKEN } }),
  setUp: twilioSetUp((svc, sim) =>
    createTwilioChannel(svc.app, "TWILIO", { sid: SID, token: TOKEN, url: sim.url }, {}, { default: true }),
  ),
});

const waitForStatus = (svc: Svc, key: string, id: string, status: string) =>
  waitFor(
    async () => {
      const outbound = (await callWithKey(svc, key, "GET", `/api/v1/outbound/${id}/`)).json();
      return outbound.status === status && outbound;
    },
    { timeoutMs: 60_000, what: `outbound ${id} to be ${status}` },
  );

describe("test keys", { timeout: 120_000 }, () => {
  it("go through the whole pipeline to delivered on the log channel, never reaching a provider", async ({
    svc,
    sim,
  }) => {
    const key = await issueKey(svc, "test");
    const to = msisdn();
    const res = await callWithKey(svc, key, "POST", "/api/v1/outbound/", {
      to_addr: to,
      content: "Your code is 1234",
      metadata: {},
      channel: "TWILIO",
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ channel: "LOG", test: true, status: "queued" });
    const delivered = await waitForStatus(svc, key, res.json().id, "delivered");
    expect(delivered).toMatchObject({
      test: true,
      delivered: true,
      provider_id: expect.stringMatching(/^log-/),
    });

    const batch = await callWithKey(svc, key, "POST", "/api/v1/outbound/batch/", {
      content: "Clinic closed on Friday",
      recipients: [{ to_addr: msisdn() }, { to_addr: msisdn() }],
    });
    expect(batch.statusCode).toBe(202);
    expect(batch.json()).toMatchObject({ channel: "LOG", test: true });
    await waitFor(
      async () =>
        (await callWithKey(svc, key, "GET", `/api/v1/outbound/batch/${batch.json().id}/`)).json()
          .status_counts.delivered === 2,
      { timeoutMs: 60_000, what: "the test batch to be delivered" },
    );

    // The control: a live key's send through the same default channel does reach the simulator.
    const live = await callWithKey(svc, await issueKey(svc, "live"), "POST", "/api/v1/outbound/", {
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
  it("send only to the addresses and identities on their allow-list; 403 naming the recipient otherwise", async ({
    svc,
  }) => {
    const allowed = msisdn();
    const identity = randomUUID();
    const key = await issueKey(svc, "team", [allowed, "Team@Example.org", identity]);
    const before = await stored(svc);

    const other = await callWithKey(svc, key, "POST", "/api/v1/outbound/", {
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
    const otherIdentity = await callWithKey(svc, key, "POST", "/api/v1/outbound/", {
      to_identity: randomUUID(),
      content: "Hi",
      metadata: {},
    });
    expect(otherIdentity.statusCode).toBe(403);
    expect(otherIdentity.json().error.details).toEqual([
      { field: "body.to_identity", message: "not on the key's allow-list" },
    ]);
    const batch = await callWithKey(svc, key, "POST", "/api/v1/outbound/batch/", {
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
    expect(await stored(svc)).toEqual(before);

    const ok = await callWithKey(svc, key, "POST", "/api/v1/outbound/", {
      to_addr: allowed,
      content: "Hi",
      metadata: {},
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ channel: "TWILIO", test: false });
    const email = await callWithKey(svc, key, "POST", "/api/v1/outbound/", {
      to_addr: "team@example.org",
      content: "Hi",
      metadata: {},
      channel: "LOG",
    });
    expect(email.statusCode).toBe(201);
    const okBatch = await callWithKey(svc, key, "POST", "/api/v1/outbound/batch/", {
      content: "Hi",
      channel: "LOG",
      recipients: [{ to_addr: allowed }, { to_identity: identity }],
    });
    expect(okBatch.statusCode).toBe(202);
  });
});

describe("one user's test and live keys", { timeout: 120_000 }, () => {
  /** A test and a live key of one user. */
  const keysOfOneUser = async (svc: Svc) => {
    const email = `both-${randomUUID()}@example.org`;
    return {
      test: await issueKey(svc, "test", undefined, email),
      live: await issueKey(svc, "live", undefined, email),
    };
  };

  it("keep their Idempotency-Keys apart: a live send with the key a test send used is sent for real", async ({
    svc,
    sim,
  }) => {
    const keys = await keysOfOneUser(svc);
    const body = { to_addr: msisdn(), content: "Your appointment is at 9", metadata: {} };
    const post = (key: string) =>
      svc.app.inject({
        method: "POST",
        url: "/api/v1/outbound/",
        headers: { authorization: `Token ${key}`, "idempotency-key": "appointment-42" },
        payload: body,
      });
    const tried = await post(keys.test);
    expect(tried.statusCode).toBe(201);
    expect(tried.json()).toMatchObject({ channel: "LOG", test: true });

    const live = await post(keys.live);
    expect(live.statusCode).toBe(201);
    expect(live.headers["idempotent-replayed"]).toBeUndefined();
    expect(live.json()).toMatchObject({ channel: "TWILIO", test: false });
    expect(live.json().id).not.toBe(tried.json().id);
    await waitFor(() => sim.requests.some((r) => r.To === body.to_addr), {
      what: "the live send at the simulator",
    });

    // Each key's retry replays its own answer.
    for (const [key, first] of [
      [keys.test, tried],
      [keys.live, live],
    ] as const) {
      const again = await post(key);
      expect(again.headers["idempotent-replayed"]).toBe("true");
      expect(again.json().id).toBe(first.json().id);
    }
  });

  it("answer a batch id another key's batch has with 409, storing nothing; the same key's retry gets its batch", async ({
    svc,
  }) => {
    const keys = await keysOfOneUser(svc);
    const other = await issueKey(svc, "live");
    const id = randomUUID();
    const batch = (key: string) =>
      callWithKey(svc, key, "POST", "/api/v1/outbound/batch/", {
        id,
        content: "Clinic closed on Friday",
        recipients: [{ to_addr: msisdn() }],
      });
    const first = await batch(keys.test);
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ id, test: true, channel: "LOG" });
    const before = await stored(svc);

    for (const key of [keys.live, other]) {
      const refused = await batch(key);
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toEqual({
        error: {
          code: "MESSAGE_SENDER_BATCH_EXISTS",
          message: expect.stringContaining(id),
          details: [{ field: "body.id", message: expect.any(String) }],
          requestId: expect.any(String),
        },
      });
      expect(JSON.stringify(refused.json())).not.toContain("Clinic");
    }
    expect(await stored(svc)).toEqual(before);
    expect(await svc.db.outboundBatch.findUniqueOrThrow({ where: { id } })).toMatchObject({ test: true });

    const retried = await batch(keys.test);
    expect(retried.statusCode).toBe(202);
    expect(retried.json()).toMatchObject({ id, test: true, total: 1 });
    expect(await stored(svc)).toEqual(before);
  });
});
