import { Broker } from "@tidings/amqp";
import type { OutboundSend, Subscription } from "@tidings/contracts";
import { startServiceWorker } from "@tidings/service-kit";
import {
  AMQP_URL,
  adminAuth,
  type Capture,
  captureMessages,
  startTestService,
  type TestService,
  testLogger,
  waitFor,
} from "@tidings/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SubscriptionConfig } from "../src/config.ts";
import { createDb, type Db } from "../src/db.ts";
import { subscriptionService } from "../src/service.ts";
import { messageEvent, scheduleEvent as schedule, messageSetEvent as set, T } from "./content-helpers.ts";

let svc: TestService<SubscriptionConfig, Db>;
let capture: Capture;
const IDENTITY = "0c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b01";

let messageId = 0;
const message = (messageset: number, sequence_number: number, lang: string, text: string) =>
  messageEvent(++messageId, messageset, sequence_number, lang, text);

const sends = () => capture.named<OutboundSend>("outbound.send");
const sendsTo = (id: string) => sends().filter((s) => s.to_identity === id);

async function subscribe(body: Record<string, unknown>): Promise<Subscription> {
  const res = await svc.app.inject({
    method: "POST",
    url: "/api/v1/subscriptions/",
    headers: adminAuth,
    payload: { messageset: 1, schedule: 1, lang: "eng_ZA", ...body },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const fire = (slot: string, scheduleId = 1) =>
  svc.broker.publish("schedule.fired", {
    schedule_id: "2f4b8c7e-9a1d-4e3f-8b2a-1c0d9e8f7a6b",
    slot,
    manual: false,
    source: { service: "content", ref: String(scheduleId) },
    payload: {},
  });

/** Slots relative to now: the Seed send trigger stamps its slot with the real clock. */
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString();
const SLOT_1 = day(-2);
const SLOT_3 = day(1);
const SLOT_4 = day(2);

const reload = async (id: string) => await svc.db.subscription.findUniqueOrThrow({ where: { id } });

beforeAll(async () => {
  svc = await startTestService(subscriptionService, {
    worker: true,
    env: { FALLBACK_LANGUAGE: "eng_ZA", DRY_RUN_MESSAGESETS: "4" },
  });
  capture = await captureMessages(svc.namespace, [
    "outbound.send",
    "subscription.created",
    "subscription.completed",
  ]);
  for (const s of [schedule(1), schedule(2)]) {
    await svc.broker.publish("content.schedule.changed", s);
  }
  await svc.broker.publish("content.messageset.changed", set(1, 2, 1));
  await svc.broker.publish("content.messageset.changed", set(2, null, 2));
  for (const m of [
    message(1, 1, "eng_ZA", "one"),
    message(1, 2, "eng_ZA", "two"),
    message(1, 3, "eng_ZA", "three"),
    message(1, 1, "zul_ZA", "kunye"),
    message(1, 2, "zul_ZA", "kubili"),
    message(1, 3, "zul_ZA", "kuthathu"),
    message(2, 1, "eng_ZA", "baby one"),
  ]) {
    await svc.broker.publish("content.message.changed", m);
  }
  await waitFor(
    async () => (await svc.db.messageCopy.count()) === 7 && (await svc.db.messageSetCopy.count()) === 2,
    {
      what: "content copies",
    },
  );
});
afterAll(async () => {
  await capture?.stop();
  await svc?.close();
});

describe("sending on a schedule", () => {
  it("sends each ready subscription its next message per slot, once, then completes and rolls over", async () => {
    const eng = await subscribe({ identity: IDENTITY });
    const zul = await subscribe({ identity: "1c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b02", lang: "zul_ZA" });
    const afr = await subscribe({
      identity: "2c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b03",
      lang: "afr_ZA",
      metadata: { prepend_next_delivery: "Welcome!" },
    });
    const inactive = await subscribe({ identity: "3c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b04", active: false });

    await fire(SLOT_1);
    await waitFor(
      () =>
        sendsTo(afr.identity).length === 1 &&
        sendsTo(eng.identity).length === 1 &&
        sendsTo(zul.identity).length === 1,
      { what: "first sends" },
    );
    expect(sendsTo(eng.identity)[0]).toMatchObject({ content: "one", metadata: { seq: 1 } });
    expect(sendsTo(zul.identity)[0]?.content).toBe("kunye");
    // No afr_ZA messages: falls back to eng_ZA; the prepend goes out once and is cleared.
    expect(sendsTo(afr.identity)[0]?.content).toBe("Welcome!\none");
    expect((await reload(afr.id)).metadata).toEqual({});
    expect((await reload(eng.id)).nextSequenceNumber).toBe(2);

    // The same slot again (a redelivered or duplicated trigger) sends nothing new.
    await fire(SLOT_1);
    // The Seed send trigger (POST /api/v1/schedule/{id}/send/) sends the next message.
    const trigger = await svc.app.inject({
      method: "POST",
      url: "/api/v1/schedule/1/send/",
      headers: adminAuth,
    });
    expect(trigger.statusCode).toBe(202);
    await waitFor(() => sendsTo(eng.identity).length === 2, { what: "second send" });
    expect(sendsTo(eng.identity).map((s) => s.content)).toEqual(["one", "two"]);
    expect(sendsTo(eng.identity).map((s) => s.priority)).toEqual(["bulk", "bulk"]);

    await fire(SLOT_3);
    await waitFor(async () => (await reload(eng.id)).completed, { what: "completion" });
    const done = await reload(eng.id);
    expect(done).toMatchObject({ completed: true, active: false, processStatus: 2, nextSequenceNumber: 3 });
    await waitFor(() => sendsTo(eng.identity).length === 3, { what: "third send" });
    expect(sendsTo(eng.identity).map((s) => s.content)).toEqual(["one", "two", "three"]);
    expect(new Set(sends().map((s) => s.id)).size).toBe(sends().length);

    // Rolled over to set 2 on its default schedule (2), starting at message 1.
    const next = await waitFor(
      () => svc.db.subscription.findFirst({ where: { identity: eng.identity, messagesetId: 2 } }),
      { what: "rollover" },
    );
    expect(next).toMatchObject({ scheduleId: 2, nextSequenceNumber: 1, active: true, lang: "eng_ZA" });
    await waitFor(() => capture.named<Subscription>("subscription.completed").some((s) => s.id === eng.id), {
      what: "subscription.completed",
    });

    // Completed subscriptions and inactive ones are not sent; schedule 2 sends the rollover its first message.
    await fire(SLOT_4);
    await fire(SLOT_4, 2);
    await waitFor(() => sendsTo(eng.identity).length === 4, { what: "rollover send" });
    expect(sendsTo(eng.identity)[3]?.content).toBe("baby one");
    expect(sendsTo(inactive.identity)).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(sendsTo(eng.identity)).toHaveLength(4);
  });

  it("sends once when two workers get overlapping batches many times", async () => {
    const subs = await Promise.all(
      [
        "4c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b05",
        "5c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b06",
        "6c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b07",
      ].map((identity) => subscribe({ identity })),
    );
    const ids = subs.map((s) => s.id);
    const db2 = createDb(svc.config.DATABASE_URL);
    const broker2 = await Broker.connect({
      url: AMQP_URL,
      namespace: svc.namespace,
      service: "subscription",
      logger: testLogger(),
    });
    const stop2 = await startServiceWorker(subscriptionService, { ...svc, db: db2, broker: broker2 });
    try {
      const slot = day(3);
      const batches = [ids, [ids[0] as string], [ids[2] as string, ids[1] as string], ids.slice(1)];
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          svc.broker.publish("subscription.send-next", {
            subscription_ids: batches[i % 4] as string[],
            schedule: 1,
            slot,
          }),
        ),
      );
      await waitFor(() => subs.every((s) => sendsTo(s.identity).length >= 1), { what: "sends" });
      await new Promise((r) => setTimeout(r, 500));
      for (const sub of subs) {
        expect(sendsTo(sub.identity)).toHaveLength(1);
        expect((await reload(sub.id)).nextSequenceNumber).toBe(2);
      }
    } finally {
      await stop2();
      await broker2.close();
      await db2.$disconnect();
    }
  });

  it("sends the rest of a batch when one subscription's content has not arrived, and that one once it has", async () => {
    await svc.broker.publish("content.messageset.changed", set(3, null, 1));
    await svc.broker.publish("content.message.changed", message(3, 1, "eng_ZA", "set three"));
    await waitFor(() => svc.db.messageCopy.findFirst({ where: { messagesetId: 3 } }), { what: "set 3 copy" });
    const ready = await subscribe({ identity: "7c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b08", messageset: 3 });
    const early = await subscribe({
      identity: "8c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b09",
      messageset: 3,
      next_sequence_number: 2,
    });
    await svc.broker.publish("subscription.send-next", {
      subscription_ids: [ready.id, early.id],
      schedule: 1,
      slot: day(4),
    });
    await waitFor(() => sendsTo(ready.identity).length === 1, { what: "the ready one" });
    expect(sendsTo(early.identity)).toHaveLength(0);
    // Message 2 of set 3 arrives: the deferred subscription is retried on its own and sent, once.
    await svc.broker.publish("content.message.changed", message(3, 2, "eng_ZA", "set three, two"));
    await waitFor(() => sendsTo(early.identity).length === 1, {
      what: "the deferred one",
      timeoutMs: 15_000,
    });
    expect(sendsTo(early.identity)[0]?.content).toBe("set three, two");
    expect((await reload(early.id)).completed).toBe(true);
    expect(sendsTo(ready.identity)).toHaveLength(1);
  });
});

describe("subscriptions API", () => {
  it("rejects unknown message sets and schedules with 400, creating nothing", async () => {
    const before = await svc.db.subscription.count();
    const res = await svc.app.inject({
      method: "POST",
      url: "/api/v1/subscriptions/",
      headers: adminAuth,
      payload: { identity: IDENTITY, messageset: 99, schedule: 98, lang: "eng_ZA" },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("SUBSCRIPTION_UNKNOWN_CONTENT");
    expect(res.json().error.details.map((d: { field: string }) => d.field)).toEqual([
      "body.messageset",
      "body.schedule",
    ]);
    expect(await svc.db.subscription.count()).toBe(before);
  });

  it("creates one subscription for a hub request delivered twice", async () => {
    const body = {
      hook: { id: 3, event: "subscriptionrequest.added", target: "http://x" },
      data: {
        id: "hub-req-42",
        identity: IDENTITY,
        messageset: 1,
        schedule: 1,
        lang: "eng_ZA",
        next_sequence_number: 2,
      },
    };
    const first = await svc.app.inject({
      method: "POST",
      url: "/api/v1/subscriptions/request",
      headers: adminAuth,
      payload: body,
    });
    const second = await svc.app.inject({
      method: "POST",
      url: "/api/v1/subscriptions/request",
      headers: adminAuth,
      payload: body,
    });
    expect(first.statusCode).toBe(201);
    expect(second.json()).toEqual(first.json());
    const sub = await reload(first.json().id);
    expect(sub).toMatchObject({ nextSequenceNumber: 2, initialSequenceNumber: 2, metadata: {} });
    const missing = await svc.app.inject({
      method: "POST",
      url: "/api/v1/subscriptions/request",
      headers: adminAuth,
      payload: {},
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.details[0].field).toBe("body.data");
  });

  it("filters the list and 404s unknown ids and schedules", async () => {
    const res = await svc.app.inject({
      url: `/api/v1/subscriptions/?identity=${IDENTITY}&messageset=1`,
      headers: adminAuth,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().results.every((s: Subscription) => s.identity === IDENTITY && s.messageset === 1)).toBe(
      true,
    );
    expect(res.json().count).toBeGreaterThan(0);
    const none = await svc.app.inject({
      url: "/api/v1/subscriptions/00000000-0000-4000-8000-000000000000/",
      headers: adminAuth,
    });
    expect(none.statusCode).toBe(404);
    const trigger = await svc.app.inject({
      method: "POST",
      url: "/api/v1/schedule/999/send/",
      headers: adminAuth,
    });
    expect(trigger.statusCode).toBe(404);
  });

  it("PATCHes a subscription, publishing subscription.updated; refuses unknown content and fields", async () => {
    const capture2 = await captureMessages(svc.namespace, ["subscription.updated"]);
    try {
      const sub = await subscribe({ identity: "9c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b10" });
      const patch = (payload: object) =>
        svc.app.inject({
          method: "PATCH",
          url: `/api/v1/subscriptions/${sub.id}/`,
          headers: adminAuth,
          payload,
        });
      const res = await patch({ active: false, lang: "zul_ZA", metadata: { note: "moved" } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ active: false, lang: "zul_ZA", metadata: { note: "moved" } });
      await waitFor(
        () => capture2.named<Subscription>("subscription.updated").find((s) => s.id === sub.id && !s.active),
        {
          what: "subscription.updated",
        },
      );
      expect((await patch({ messageset: 42 })).json().error.code).toBe("SUBSCRIPTION_UNKNOWN_CONTENT");
      expect((await patch({ actve: true })).statusCode).toBe(400);
      expect((await patch({})).statusCode).toBe(400);
      expect((await reload(sub.id)).lang).toBe("zul_ZA");
      const missing = await svc.app.inject({
        method: "PATCH",
        url: "/api/v1/subscriptions/00000000-0000-4000-8000-000000000000/",
        headers: adminAuth,
        payload: { active: true },
      });
      expect(missing.statusCode).toBe(404);
    } finally {
      await capture2.stop();
    }
  });

  it("resends the last message without advancing; 400 for an unknown subscription (inactive and completed ones: resend.int.test.ts)", async () => {
    const sub = await subscribe({
      identity: "ac6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b11",
      next_sequence_number: 3,
    });
    const res = await svc.app.inject({
      method: "POST",
      url: `/api/v1/subscriptions/${sub.id}/resend`,
      headers: adminAuth,
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ accepted: true, sequence_number: 2 });
    const sent = await waitFor(() => sendsTo(sub.identity).find((s) => s.id === res.json().outbound), {
      what: "resend",
    });
    expect(sent).toMatchObject({ content: "two", resend: true, priority: "normal" });
    expect((await reload(sub.id)).nextSequenceNumber).toBe(3);
    const again = await svc.app.inject({
      method: "POST",
      url: `/api/v1/subscriptions/${sub.id}/resend`,
      headers: adminAuth,
    });
    expect(again.json().outbound).not.toBe(res.json().outbound);
    // Seed's ResendRequest: each resend recorded with its outbound and the message sent again.
    const message2 = await svc.db.messageCopy.findFirstOrThrow({
      where: { messagesetId: 1, sequenceNumber: 2, lang: "eng_ZA" },
    });
    const requests = await svc.db.resendRequest.findMany({ where: { subscription: sub.id } });
    expect(requests.map((r) => [r.outbound, r.message]).sort()).toEqual(
      [
        [res.json().outbound, message2.id],
        [again.json().outbound, message2.id],
      ].sort(),
    );

    const unknown = await svc.app.inject({
      method: "POST",
      url: "/api/v1/subscriptions/00000000-0000-4000-8000-000000000000/resend",
      headers: adminAuth,
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.message).toBe(
      "Cannot find subscription with ID 00000000-0000-4000-8000-000000000000",
    );
  });

  it("sends the next message once on Seed's legacy POST /subscriptions/{id}/send; 400 for an unknown one", async () => {
    const sub = await subscribe({
      identity: "5e6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b31",
      next_sequence_number: 2,
    });
    // The bytes Seed's scheduler POSTed to a subscription's own schedule endpoint (payload `{}`).
    const send = (url: string) =>
      svc.app.inject({
        method: "POST",
        url,
        headers: { ...adminAuth, "content-type": "application/json" },
        payload: "{}",
      });
    const res = await send(`/api/v1/subscriptions/${sub.id}/send`);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ accepted: true });
    const first = await waitFor(() => sendsTo(sub.identity)[0], { what: "legacy send" });
    expect(first).toMatchObject({ content: "two" });
    expect(first?.resend).toBeFalsy();
    await waitFor(async () => (await reload(sub.id)).nextSequenceNumber === 3, { what: "advance" });

    // With the trailing slash too; each accepted POST is one send.
    expect((await send(`/api/v1/subscriptions/${sub.id}/send/`)).statusCode).toBe(201);
    await waitFor(() => sendsTo(sub.identity).length === 2, { what: "second legacy send" });
    // The set's last message: the subscription completes; a further POST is accepted and sends nothing.
    await waitFor(async () => (await reload(sub.id)).completed, { what: "completed" });
    expect((await send(`/api/v1/subscriptions/${sub.id}/send`)).statusCode).toBe(201);
    await new Promise((r) => setTimeout(r, 300));
    expect(sendsTo(sub.identity).map((s) => s.content)).toEqual(["two", "three"]);

    const unknown = await send("/api/v1/subscriptions/00000000-0000-4000-8000-000000000000/send");
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toMatchObject({
      code: "SUBSCRIPTION_NOT_FOUND",
      message: "Cannot find subscription with ID 00000000-0000-4000-8000-000000000000",
    });
  });

  it("lists and sets its send estimate gauge through /api/metrics/ (Seed's scheduled_metrics)", async () => {
    const listed = await svc.app.inject({ method: "GET", url: "/api/metrics/", headers: adminAuth });
    expect(listed.json().metrics_available).toContain("subscription_send_estimate");
    const run = await svc.app.inject({ method: "POST", url: "/api/metrics/", headers: adminAuth });
    expect(run.statusCode).toBe(201);
    expect(run.json()).toEqual({ scheduled_metrics_initiated: true });
  });

  it("filters by a substring of the message set's short name", async () => {
    const res = await svc.app.inject({
      url: "/api/v1/subscriptions/?messageset_contains=set-2",
      headers: adminAuth,
    });
    const results = res.json().results as Subscription[];
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((s) => s.messageset === 2)).toBe(true);
    const none = await svc.app.inject({
      url: "/api/v1/subscriptions/?messageset_contains=nope",
      headers: adminAuth,
    });
    expect(none.json().count).toBe(0);
  });

  it("advances subscriptions of a dry-run set without sending", async () => {
    await svc.broker.publish("content.messageset.changed", set(4, null, 1));
    await svc.broker.publish("content.message.changed", message(4, 1, "eng_ZA", "dry one"));
    await svc.broker.publish("content.message.changed", message(4, 2, "eng_ZA", "dry two"));
    await waitFor(async () => (await svc.db.messageCopy.count({ where: { messagesetId: 4 } })) === 2, {
      what: "set 4",
    });
    const sub = await subscribe({ identity: "cc6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b13", messageset: 4 });
    await svc.broker.publish("subscription.send-next", {
      subscription_ids: [sub.id],
      schedule: 1,
      slot: day(5),
    });
    await waitFor(async () => (await reload(sub.id)).nextSequenceNumber === 2, { what: "advanced" });
    await new Promise((r) => setTimeout(r, 300));
    expect(sendsTo(sub.identity)).toHaveLength(0);
  });

  it("previews the send dates of the rest of the set", async () => {
    const sub = await subscribe({
      identity: "dc6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b14",
      next_sequence_number: 2,
    });
    const res = await svc.app.inject({
      url: `/api/v1/subscriptions/${sub.id}/calendar/`,
      headers: adminAuth,
    });
    expect(res.statusCode).toBe(200);
    const calendar = res.json() as { timezone: string; sends: { sequence_number: number; at: string }[] };
    expect(calendar.timezone).toBe("UTC");
    expect(calendar.sends.map((s) => s.sequence_number)).toEqual([2, 3]);
    const dates = calendar.sends.map((s) => new Date(s.at));
    // Schedule 1 is "0 8 * * 1,4": Mondays and Thursdays at 08:00 UTC, from now on, in order.
    for (const date of dates) {
      expect([1, 4]).toContain(date.getUTCDay());
      expect([date.getUTCHours(), date.getUTCMinutes()]).toEqual([8, 0]);
      expect(date.getTime()).toBeGreaterThan(Date.now());
    }
    expect(dates[1]?.getTime()).toBeGreaterThan(dates[0]?.getTime() ?? Number.POSITIVE_INFINITY);
    const unknown = await svc.app.inject({
      url: "/api/v1/subscriptions/00000000-0000-4000-8000-000000000000/calendar/",
      headers: adminAuth,
    });
    expect(unknown.statusCode).toBe(404);
  });

  it("stops the subscriptions of a deleted identity, once", async () => {
    const capture2 = await captureMessages(svc.namespace, ["subscription.updated"]);
    try {
      const identity = "ec6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b15";
      const a = await subscribe({ identity });
      const b = await subscribe({ identity, messageset: 2, schedule: 2 });
      const other = await subscribe({ identity: "fc6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b16" });
      await svc.broker.publish("identity.deleted", { id: identity });
      await svc.broker.publish("identity.deleted", { id: identity });
      await waitFor(async () => !(await reload(a.id)).active && !(await reload(b.id)).active, {
        what: "stopped",
      });
      expect((await reload(other.id)).active).toBe(true);
      await waitFor(
        () =>
          capture2.named<Subscription>("subscription.updated").filter((s) => s.identity === identity)
            .length === 2,
        {
          what: "two subscription.updated",
        },
      );
      await new Promise((r) => setTimeout(r, 300));
      expect(
        capture2.named<Subscription>("subscription.updated").filter((s) => s.identity === identity),
      ).toHaveLength(2);
    } finally {
      await capture2.stop();
    }
  });

  it("stops an identity's subscriptions on stopall, forget, unsubscribe and max failures, not on stop or a topic unsubscribe", async () => {
    const optout = (identity: string, optout_type: string, topic: string | null = null) =>
      svc.broker.publish("optout.created", {
        id: crypto.randomUUID(),
        optout_type: optout_type as "stop",
        identity,
        address_type: "msisdn",
        address: "+27820001001",
        request_source: "test",
        requestor_source_id: null,
        reason: null,
        topic,
        created_at: T,
        identity_details: {},
      });
    const ids = Array.from(
      { length: 6 },
      (_, i) => `1d6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2c${String(i).padStart(2, "0")}`,
    );
    const subs = await Promise.all(ids.map((identity) => subscribe({ identity })));
    await optout(ids[0] as string, "stopall");
    await optout(ids[1] as string, "forget");
    await optout(ids[2] as string, "unsubscribe");
    await svc.broker.publish("identity.max_failures", { identity_id: ids[3] as string, failure_count: 5 });
    await optout(ids[4] as string, "stop");
    await optout(ids[5] as string, "unsubscribe", "outbreak/ke");
    await waitFor(
      async () => (await Promise.all(subs.slice(0, 4).map((s) => reload(s.id)))).every((s) => !s.active),
      {
        what: "four stopped",
      },
    );
    await new Promise((r) => setTimeout(r, 300));
    expect((await reload((subs[4] as Subscription).id)).active).toBe(true);
    expect((await reload((subs[5] as Subscription).id)).active).toBe(true);
  });
});
