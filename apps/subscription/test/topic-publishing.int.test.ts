import { randomUUID } from "node:crypto";
import { waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { fanOutPublish, sendTopicBatch } from "../src/services/topics-send.ts";
import { topicsTest } from "./support.ts";
import { address, announceIdentity, identityEvent, tokenIn, UNSUBSCRIBE_SECRET } from "./topics-helpers.ts";

const PUBLIC_URL = "https://tidings.example.org";
const topic = "clinic-news";
const alice = randomUUID(); // verified msisdn and email
const bob = randomUUID(); // unverified
const carol = randomUUID(); // verified but opted out
const dan = randomUUID(); // verified, but no first_name
const erin = randomUUID(); // takes email only, has only a verified msisdn
const frank = randomUUID(); // subscribed, unknown to the local copy

/** A publish record as GET /api/v1/publishes/{id}/ answers it. */
type PublishRecord = { counts: Record<string, number> };

const it = topicsTest({ PUBLIC_URL, TOPIC_CHANNELS: "email=EMAIL", SEND_BATCH_SIZE: "2" }, [
  "outbound.send",
]).extend<{
  people: undefined;
  settledRecord: (publishId: string, settled: number) => Promise<PublishRecord>;
}>({
  // The topic's subscribers, announced as identity would.
  people: [
    async ({ svc, subscribe }, use) => {
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
      await use(undefined);
    },
    { scope: "file", auto: true },
  ],
  settledRecord: [
    async ({ call }, use) =>
      use((publishId, settled) =>
        waitFor(
          async () => {
            const res = await call("GET", `/api/v1/publishes/${publishId}/`);
            const record = res.json() as PublishRecord;
            const total = Object.values(record.counts ?? {}).reduce((a, b) => a + b, 0);
            return total >= settled && record;
          },
          { timeoutMs: 30_000, what: `publish ${publishId} to settle` },
        ),
      ),
    { scope: "file" },
  ],
});

describe("publishing", () => {
  it("lists topics with their subscribers and previews a publish, sending nothing", async ({ svc, call }) => {
    const topics = (await call("GET", "/api/v1/topics/")).json();
    expect(topics).toMatchObject({ count: 1, results: [{ topic, subscribers: 6 }] });
    const preview = await call("POST", `/api/v1/topics/${topic}/publish/preview/`, {
      content: "Hi <<first_name>>, ((clinic)) opens at 8.",
      personalisation: { clinic: "Hillbrow Clinic" },
    });
    expect(preview.statusCode, preview.body).toBe(200);
    const body = preview.json();
    expect(body).toMatchObject({
      topic,
      subscribers: 6,
      recipients: 2,
      messages: 3,
      channels: { email: 1, msisdn: 2 },
      languages: { eng_ZA: 1, unknown: 1 },
      subject: null,
      content: "Hi <<first_name>>, ((clinic)) opens at 8.",
    });
    // The first recipient by id: Alice gets her name, Dan has none.
    expect(body.sample).toEqual(
      body.sample.identity === alice
        ? { identity: alice, subject: null, body: "Hi Alice, Hillbrow Clinic opens at 8.", missing: null }
        : { identity: dan, subject: null, body: null, missing: "first_name" },
    );
    const emailOnly = await call("POST", `/api/v1/topics/${topic}/publish/preview/`, {
      content: "Hello",
      channels: ["email"],
    });
    expect(emailOnly.json()).toMatchObject({ recipients: 1, messages: 1, channels: { email: 1 } });
    const neither = await call("POST", `/api/v1/topics/${topic}/publish/preview/`, { subject: "x" });
    expect(neither.statusCode).toBe(400);
    expect(neither.json().error.code).toBe("TOPIC_CONTENT_REQUIRED");
    const unknown = await call("POST", `/api/v1/topics/${topic}/publish/preview/`, { template: 999_999 });
    expect(unknown.json().error.code).toBe("TOPIC_UNKNOWN_TEMPLATE");
    expect(await svc.db.topicPublish.count()).toBe(0);
  });

  it("sends only to verified, opted-in subscribers, mail-merged per recipient, and reports missing fields", async ({
    publish,
    sendsOf,
    settledRecord,
  }) => {
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
      recorded: 2,
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

  it("sends nothing new when a publish_id is published again or its batches are redelivered", async ({
    svc,
    call,
    publish,
    sendsOf,
    settledRecord,
  }) => {
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

  it("renders content-service templates with personalisation and identity details", async ({
    svc,
    call,
    publish,
    sendsOf,
  }) => {
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

  it("counts delivery reports of topic messages", async ({ svc, call, sendsOf }) => {
    const [sent] = sendsOf("clinic-tpl");
    // As message-sender announces a topic publish's message (its metadata has the publish_id): routed apart.
    await svc.broker.publish("outbound.delivery_report", {
      outbound_id: sent?.id as string,
      identity: alice,
      delivered: true,
      status: "delivered",
      reason: null,
      at: new Date().toISOString(),
      source: "topic",
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

  it("follows the identity copy: a newly verified address receives, an opted-out one stops", async ({
    svc,
    publish,
    sendsOf,
    settledRecord,
  }) => {
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
    await svc.broker.publish(
      "identity.updated",
      identityEvent(
        bob,
        {},
        [address("msisdn", "+27820000002", { verified: false })],
        "2026-01-15T00:00:00.000Z",
        {
          createdAt: "2026-01-01T00:00:00.000Z",
        },
      ),
    );
    await publish(topic, { publish_id: "clinic-3", content: "Third <<first_name>>" });
    await settledRecord("clinic-3", 3);
    const sends = await waitFor(() => sendsOf("clinic-3").length === 2 && sendsOf("clinic-3"), {
      timeoutMs: 30_000,
      what: "clinic-3 sends",
    });
    expect(sends.map((s) => s.to_addr).sort()).toEqual(["+27820000002", "alice@example.org"]);
  });
});

describe("a publish's progress", () => {
  it("is measured against what its fan-out handed on, when a subscriber left between the publish and the fan-out", async ({
    svc,
    call,
    subscribe,
  }) => {
    // A topic and publish of this attempt's own (CI retries a failed test on the same database).
    const [gita, hana, ward] = [randomUUID(), randomUUID(), randomUUID().slice(0, 8)];
    const [topic, publishId] = [`ward-news-${ward}`, `ward-${ward}`];
    await announceIdentity(svc, gita, {}, [address("msisdn", "+27820000011")]);
    await announceIdentity(svc, hana, {}, [address("msisdn", "+27820000012")]);
    await subscribe(topic, gita);
    await subscribe(topic, hana);
    // Published with both subscribers counted (as the publish request counts them), its fan-out not yet run...
    await svc.db.topicPublish.create({
      data: { publishId, topic, content: "Visiting hours change", recipients: 2 },
    });
    const before = (await call("GET", `/api/v1/publishes/${publishId}/`)).json();
    expect(before).toMatchObject({ recipients: 2, handed_on: null, recorded: 0 });
    // ...when hana unsubscribes: the fan-out hands on gita alone.
    expect((await call("DELETE", `/api/v1/topics/${topic}/subscribers/${hana}/`)).statusCode).toBe(204);
    expect(await fanOutPublish(svc.db, svc.broker, publishId, { pageSize: 10, sendBatchSize: 2 })).toBe(1);
    const record = await waitFor(
      async () => {
        const r = (await call("GET", `/api/v1/publishes/${publishId}/`)).json();
        return r.recorded === 1 && r;
      },
      { timeoutMs: 30_000, what: "the publish's batch" },
    );
    expect(record).toMatchObject({ recipients: 2, handed_on: 1, recorded: 1, counts: { queued: 1 } });
  });
});
