import { randomUUID } from "node:crypto";
import type { OutboundSend, TopicUnsubscribed } from "@tidings/contracts";
import {
  adminAuth,
  type Capture,
  captureMessages,
  startTestService,
  type TestService,
  waitFor,
} from "@tidings/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SubscriptionConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { subscriptionService } from "../src/service.ts";
import { sendTopicBatch } from "../src/services/topics-send.ts";
import { signUnsubscribeToken } from "../src/services/unsubscribe-token.ts";
import { address, announceIdentity, UNSUBSCRIBE_SECRET } from "./topics-helpers.ts";

let svc: TestService<SubscriptionConfig, Db>;
let capture: Capture;
const PUBLIC_URL = "https://tidings.example.org";

beforeAll(async () => {
  svc = await startTestService(subscriptionService, {
    worker: true,
    env: { UNSUBSCRIBE_SECRET, PUBLIC_URL, TOPIC_CHANNELS: "email=EMAIL", SEND_BATCH_SIZE: "2" },
  });
  capture = await captureMessages(svc.namespace, ["outbound.send", "topic.unsubscribed"]);
}, 60_000);

afterAll(async () => {
  await capture?.stop();
  await svc?.close();
});

const call = (method: "GET" | "POST" | "DELETE", url: string, payload?: object) =>
  svc.app.inject({ method, url, headers: adminAuth, ...(payload ? { payload } : {}) });

const subscribe = async (topic: string, identity: string, channels?: string[]) => {
  const res = await call("POST", `/api/v1/topics/${encodeURIComponent(topic)}/subscribers/`, {
    identity,
    ...(channels ? { channels } : {}),
  });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res;
};

const publish = async (topic: string, body: object) => {
  const res = await call("POST", `/api/v1/topics/${encodeURIComponent(topic)}/publish/`, body);
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json() as { publish_id: string; recipients: number; duplicate: boolean };
};

const sendsOf = (publishId: string) =>
  capture.named<OutboundSend>("outbound.send").filter((s) => s.metadata.publish_id === publishId);

/** The publish record once `settled` recipients have a record (the fan-out is asynchronous). */
const settledRecord = (publishId: string, settled: number) =>
  waitFor(
    async () => {
      const res = await call("GET", `/api/v1/publishes/${publishId}/`);
      const record = res.json() as { counts: Record<string, number> };
      const total = Object.values(record.counts ?? {}).reduce((a, b) => a + b, 0);
      return total >= settled && record;
    },
    { timeoutMs: 30_000, what: `publish ${publishId} to settle` },
  );

const tokenIn = (content: string | null | undefined) =>
  /\/unsubscribe\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(content ?? "")?.[1] as string;

describe("topic subscriptions", () => {
  it("subscribes, lists (paginated), lists an identity's topics and unsubscribes", async () => {
    const topic = "outbreak/ke/nairobi";
    const [a, b] = [randomUUID(), randomUUID()];
    expect((await subscribe(topic, a)).statusCode).toBe(201);
    expect((await subscribe(topic, b, ["email"])).statusCode).toBe(201);
    const again = await subscribe(topic, b, ["msisdn"]);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ topic, identity: b, channels: ["msisdn"] });
    await subscribe("weather", a);

    const page = await call("GET", `/api/v1/topics/${encodeURIComponent(topic)}/subscribers/?limit=1`);
    expect(page.statusCode).toBe(200);
    expect(page.json()).toMatchObject({ count: 2, previous: null, results: [{ topic }] });
    expect(page.json().next).toContain("offset=1");

    const topics = await call("GET", `/api/v1/identities/${a}/topics/`);
    expect(topics.json().results.map((t: { topic: string }) => t.topic)).toEqual([topic, "weather"]);

    const removed = await call("DELETE", `/api/v1/topics/${encodeURIComponent(topic)}/subscribers/${a}/`);
    expect(removed.statusCode).toBe(204);
    const gone = await call("DELETE", `/api/v1/topics/${encodeURIComponent(topic)}/subscribers/${a}/`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe("TOPIC_SUBSCRIPTION_NOT_FOUND");
    expect((await call("GET", `/api/v1/identities/${a}/topics/`)).json().count).toBe(1);
  });

  it("refuses bad input with the one error shape and changes nothing", async () => {
    const bad = await call("POST", "/api/v1/topics/news/subscribers/", { identity: "nope", extra: 1 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("VALIDATION_FAILED");
    const both = await call("POST", "/api/v1/topics/news/publish/", {
      publish_id: "p-both",
      content: "x",
      template: 1,
    });
    expect(both.statusCode).toBe(400);
    expect(both.json().error.code).toBe("TOPIC_CONTENT_REQUIRED");
    const unknownTemplate = await call("POST", "/api/v1/topics/news/publish/", {
      publish_id: "p-tpl",
      template: 999,
    });
    expect(unknownTemplate.json().error.code).toBe("TOPIC_UNKNOWN_TEMPLATE");
    expect((await call("GET", "/api/v1/publishes/p-both/")).statusCode).toBe(404);
    expect((await call("GET", "/api/v1/topics/news/subscribers/")).json().count).toBe(0);
    const noAuth = await svc.app.inject({ method: "GET", url: "/api/v1/topics/news/subscribers/" });
    expect(noAuth.statusCode).toBe(401);
  });
});

describe("publishing", () => {
  const topic = "clinic-news";
  const alice = randomUUID(); // verified msisdn and email
  const bob = randomUUID(); // unverified
  const carol = randomUUID(); // verified but opted out
  const dan = randomUUID(); // verified, but no first_name
  const erin = randomUUID(); // takes email only, has only a verified msisdn
  const frank = randomUUID(); // subscribed, unknown to the local copy

  beforeAll(async () => {
    await announceIdentity(svc, alice, { first_name: "Alice", lang_code: "eng_ZA" }, [
      address("msisdn", "+27820000001"),
      address("email", "alice@example.org"),
      address("email", "old-alice@example.org", { default: false }),
    ]);
    await announceIdentity(svc, bob, { first_name: "Bob" }, [
      address("msisdn", "+27820000002", { verified: false }),
    ]);
    await announceIdentity(svc, carol, { first_name: "Carol" }, [
      address("msisdn", "+27820000003", { optedout: true }),
    ]);
    await announceIdentity(svc, dan, {}, [address("msisdn", "+27820000004")]);
    await announceIdentity(svc, erin, { first_name: "Erin" }, [address("msisdn", "+27820000005")]);
    for (const id of [alice, bob, carol, dan, frank]) {
      await subscribe(topic, id);
    }
    await subscribe(topic, erin, ["email"]);
  }, 120_000);

  it("sends only to verified, opted-in subscribers, mail-merged per recipient, and reports missing fields", async () => {
    const accepted = await publish(topic, {
      publish_id: "clinic-1",
      content: "Hi <<first_name>>, ((clinic)) opens at 8.",
      personalisation: { clinic: "Hillbrow Clinic" },
      subject: "News for <<first_name>>",
    });
    expect(accepted).toEqual({ publish_id: "clinic-1", topic, recipients: 2, duplicate: false });

    const record = await settledRecord("clinic-1", 3);
    expect(record).toMatchObject({
      publish_id: "clinic-1",
      recipients: 2,
      counts: { queued: 2, failed: 1 },
      failures: { "missing_field:first_name": 1 },
    });
    const sends = await waitFor(() => sendsOf("clinic-1").length === 2 && sendsOf("clinic-1"), {
      timeoutMs: 30_000,
      what: "two sends",
    });
    expect(sends.every((s) => s.to_identity === alice)).toBe(true);
    const sms = sends.find((s) => s.to_addr === "+27820000001");
    const mail = sends.find((s) => s.to_addr === "alice@example.org");
    expect(sms?.content).toMatch(
      /^Hi Alice, Hillbrow Clinic opens at 8\.\n\nUnsubscribe: https:\/\/tidings\.example\.org\/unsubscribe\/\S+$/,
    );
    expect(sms?.channel).toBeNull();
    expect(sms?.priority).toBe("bulk");
    expect(sms?.metadata).toEqual({ topic, publish_id: "clinic-1" });
    expect(mail?.channel).toBe("EMAIL");
    const link = `${PUBLIC_URL}/unsubscribe/${tokenIn(mail?.content)}`;
    expect(mail?.metadata).toEqual({
      topic,
      publish_id: "clinic-1",
      subject: "News for Alice",
      headers: { "List-Unsubscribe": `<${link}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" },
    });
    // Per recipient and channel: the links differ and name no identity in the clear.
    expect(tokenIn(sms?.content)).not.toBe(tokenIn(mail?.content));
    expect(link).not.toContain(alice);
    for (const s of sends) {
      expect(s.content).not.toMatch(/<<|\(\(/);
    }
  });

  it("sends nothing new when a publish_id is published again or its batches are redelivered", async () => {
    const again = await call("POST", `/api/v1/topics/${topic}/publish/`, {
      publish_id: "clinic-1",
      content: "Something else",
    });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ publish_id: "clinic-1", topic, recipients: 2, duplicate: true });
    const elsewhere = await call("POST", "/api/v1/topics/other/publish/", {
      publish_id: "clinic-1",
      content: "x",
    });
    expect(elsewhere.statusCode).toBe(409);

    // The fan-out and a batch delivered again, as after a worker crash.
    await svc.broker.publish("topic.fan-out", { publish_id: "clinic-1" });
    await svc.broker.publish("topic.send-batch", { publish_id: "clinic-1", identities: [alice, dan] });
    // A later publish to the same subscribers: once its sends are out, the redeliveries were handled too.
    await publish(topic, { publish_id: "clinic-2", content: "Second <<first_name>>" });
    await waitFor(() => sendsOf("clinic-2").length === 2, { timeoutMs: 30_000, what: "clinic-2 sends" });
    await settledRecord("clinic-2", 3);
    const consumed = await waitFor(
      async () => {
        const [{ n }] = (await svc.db.$queryRawUnsafe<{ n: number }[]>(
          "SELECT count(*)::int AS n FROM tidings_outbox WHERE name = 'outbound.send'",
        )) as [{ n: number }];
        return n === 0;
      },
      { timeoutMs: 30_000, what: "the outbox to drain" },
    );
    expect(consumed).toBe(true);
    expect(sendsOf("clinic-1")).toHaveLength(2);
    expect((await call("GET", "/api/v1/publishes/clinic-1/")).json().counts).toEqual({
      queued: 2,
      failed: 1,
    });
    // And handled once more, here, where its outcome can be seen: every recipient has a record already.
    const outcome = await sendTopicBatch(
      svc.db,
      { publish_id: "clinic-1", identities: [alice, dan] },
      {
        unsubscribeSecret: UNSUBSCRIBE_SECRET,
        unsubscribeTtlDays: 1,
        publicUrl: PUBLIC_URL,
        channels: new Map(),
      },
    );
    expect(outcome).toEqual({ queued: 0, failed: 0, skipped: 0 });
  });

  it("renders content-service templates with personalisation and identity details", async () => {
    await svc.broker.publish("content.template.changed", {
      id: 7,
      name: "Reminder",
      type: "sms",
      subject: null,
      body: "((first_name)), your visit is on ((date)).",
      version: 1,
      placeholders: ["first_name", "date"],
      encoding: "GSM-7",
      segments: 1,
      created_at: "2026-01-01T00:00:00.000Z",
      updated_at: "2026-01-01T00:00:00.000Z",
    });
    await waitFor(() => svc.db.templateCopy.findUnique({ where: { id: 7 } }), { timeoutMs: 30_000 });
    await publish(topic, {
      publish_id: "clinic-tpl",
      template: 7,
      personalisation: { date: "Monday" },
      channels: ["msisdn"],
    });
    const [sent] = await waitFor(() => sendsOf("clinic-tpl").length === 1 && sendsOf("clinic-tpl"), {
      timeoutMs: 30_000,
    });
    expect(sent?.content).toMatch(/^Alice, your visit is on Monday\.\n\nUnsubscribe: /);
    expect((await call("GET", "/api/v1/publishes/clinic-tpl/")).json()).toMatchObject({ template: 7 });
  });

  it("counts delivery reports of topic messages", async () => {
    const [sent] = sendsOf("clinic-tpl");
    await svc.broker.publish("outbound.delivery_report", {
      outbound_id: sent?.id as string,
      identity: alice,
      delivered: true,
      status: "delivered",
      reason: null,
      at: new Date().toISOString(),
    });
    const record = await waitFor(
      async () => {
        const r = (await call("GET", "/api/v1/publishes/clinic-tpl/")).json();
        return r.counts.delivered === 1 && r;
      },
      { timeoutMs: 30_000, what: "the delivery in the counts" },
    );
    expect(record.counts.queued).toBeUndefined();
  });

  it("follows the identity copy: a newly verified address receives, an opted-out one stops", async () => {
    await announceIdentity(
      svc,
      bob,
      { first_name: "Bob" },
      [address("msisdn", "+27820000002")],
      "2026-02-01T00:00:00.000Z",
    );
    await announceIdentity(
      svc,
      alice,
      { first_name: "Alice" },
      [address("msisdn", "+27820000001", { optedout: true }), address("email", "alice@example.org")],
      "2026-02-01T00:00:00.000Z",
    );
    // An older event arriving late changes nothing.
    await svc.broker.publish("identity.updated", {
      id: bob,
      version: 1,
      details: {},
      communicate_through: null,
      operator: null,
      created_at: "2026-01-01T00:00:00.000Z",
      created_by: null,
      updated_at: "2026-01-15T00:00:00.000Z",
      updated_by: null,
      addresses: [address("msisdn", "+27820000002", { verified: false })],
    });
    await publish(topic, { publish_id: "clinic-3", content: "Third <<first_name>>" });
    await settledRecord("clinic-3", 3);
    const sends = await waitFor(() => sendsOf("clinic-3").length === 2 && sendsOf("clinic-3"), {
      timeoutMs: 30_000,
      what: "clinic-3 sends",
    });
    expect(sends.map((s) => s.to_addr).sort()).toEqual(["+27820000002", "alice@example.org"]);
  });
});

describe("unsubscribe links", () => {
  const topic = "<b>alerts</b>&more";
  const grace = randomUUID();
  let token: string;

  beforeAll(async () => {
    await announceIdentity(svc, grace, { first_name: "Grace" }, [address("email", "grace@example.org")]);
    await subscribe(topic, grace);
    await subscribe("other-topic", grace);
    await publish(topic, { publish_id: "alerts-1", content: "Alert for <<first_name>>" });
    const [sent] = await waitFor(() => sendsOf("alerts-1").length === 1 && sendsOf("alerts-1"), {
      timeoutMs: 30_000,
    });
    token = tokenIn(sent?.content);
  }, 60_000);

  const page = (
    method: "GET" | "POST",
    t: string,
    payload?: string,
    type = "application/x-www-form-urlencoded",
  ) =>
    svc.app.inject({
      method,
      url: `/unsubscribe/${t}`,
      ...(payload === undefined ? {} : { payload, headers: { "content-type": type } }),
    });

  it("serves an escaped confirmation page with a form, without a token", async () => {
    const res = await page("GET", token);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    expect(res.body).toContain('<html lang="en">');
    expect(res.body).toContain("&lt;b&gt;alerts&lt;/b&gt;&amp;more");
    expect(res.body).not.toContain("<b>alerts</b>");
    expect(res.body).toMatch(/<form method="post">/);
    expect(res.body).toMatch(/<button type="submit">Unsubscribe<\/button>/);
  });

  it("rejects forged and expired tokens with a page, changing nothing", async () => {
    const [payload, signature] = token.split(".") as [string, string];
    const forged = `${payload}.${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`;
    const otherSecret = signUnsubscribeToken("another-secret-another-secret-another-secret", {
      identity: grace,
      topic,
      channel: "email",
      expires: Math.floor(Date.now() / 1000) + 3600,
    });
    const expired = signUnsubscribeToken(UNSUBSCRIBE_SECRET, {
      identity: grace,
      topic,
      channel: "email",
      expires: Math.floor(Date.now() / 1000) - 60,
    });
    for (const [t, status] of [
      [forged, 403],
      [otherSecret, 403],
      [expired, 400],
      ["not-a-token", 400],
    ] as const) {
      expect((await page("GET", t)).statusCode).toBe(status);
      const post = await page("POST", t, "List-Unsubscribe=One-Click");
      expect(post.statusCode).toBe(status);
      expect(post.body).toContain("Link not valid");
    }
    expect(await svc.db.topicSubscription.count({ where: { identity: grace } })).toBe(2);
  });

  it("unsubscribes by RFC 8058 one-click POST, announces it once, and later publishes skip the identity", async () => {
    const res = await page("POST", token, "List-Unsubscribe=One-Click");
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain("You are unsubscribed");
    expect(await svc.db.topicSubscription.count({ where: { identity: grace, topic } })).toBe(0);
    expect(await svc.db.topicSubscription.count({ where: { identity: grace } })).toBe(1);
    const events = await waitFor(
      () => {
        const e = capture.named<TopicUnsubscribed>("topic.unsubscribed").filter((u) => u.identity === grace);
        return e.length > 0 && e;
      },
      { timeoutMs: 30_000 },
    );
    expect(events[0]).toMatchObject({ identity: grace, topic, channel: "email", method: "one-click" });
    // Again: nothing left to unsubscribe, nothing recorded.
    expect((await page("POST", token, "List-Unsubscribe=One-Click")).statusCode).toBe(200);

    expect((await publish(topic, { publish_id: "alerts-2", content: "Later" })).recipients).toBe(0);
    const other = await publish("other-topic", { publish_id: "other-1", content: "Still here" });
    expect(other.recipients).toBe(1);
    await waitFor(() => sendsOf("other-1").length === 1, { timeoutMs: 30_000 });
    expect(sendsOf("alerts-2")).toHaveLength(0);
    expect(
      capture.named<TopicUnsubscribed>("topic.unsubscribed").filter((u) => u.identity === grace),
    ).toHaveLength(1);
  });

  it("takes the one-click body multipart-encoded too (RFC 8058 allows both)", async () => {
    const hugo = randomUUID();
    await subscribe(topic, hugo);
    const hugoToken = signUnsubscribeToken(UNSUBSCRIBE_SECRET, {
      identity: hugo,
      topic,
      channel: "email",
      expires: Math.floor(Date.now() / 1000) + 3600,
    });
    const body =
      '--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b--\r\n';
    expect((await page("POST", hugoToken, body, "multipart/form-data; boundary=b")).statusCode).toBe(200);
    const [event] = await waitFor(
      () => {
        const e = capture.named<TopicUnsubscribed>("topic.unsubscribed").filter((u) => u.identity === hugo);
        return e.length > 0 && e;
      },
      { timeoutMs: 30_000 },
    );
    expect(event).toMatchObject({ topic, method: "one-click" });
  });

  it("unsubscribes from everything through the form", async () => {
    const [sent] = sendsOf("other-1");
    const res = await page("POST", tokenIn(sent?.content), "scope=all");
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain("any of your subscriptions");
    expect(await svc.db.topicSubscription.count({ where: { identity: grace } })).toBe(0);
    await waitFor(
      () =>
        capture
          .named<TopicUnsubscribed>("topic.unsubscribed")
          .some((u) => u.identity === grace && u.topic === null && u.method === "link"),
      { timeoutMs: 30_000 },
    );
    expect((await page("POST", tokenIn(sent?.content), "scope=bogus")).statusCode).toBe(400);
  });
});
