import type { Subscription } from "@tidings/contracts";
import { latestSlot } from "@tidings/contracts/cron";
import { adminAuth, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import {
  message,
  publishContent,
  scheduleEvent,
  sendContent,
  messageSetEvent as set,
} from "./content-helpers.ts";
import { subscriptionTest, withSecondWorker } from "./support.ts";

const IDENTITY = "0c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b01";

/** The API's time: now, until a test moves it. */
const clock = { now: new Date() };

const it = subscriptionTest({
  worker: true,
  env: { FALLBACK_LANGUAGE: "eng_ZA", DRY_RUN_MESSAGESETS: "4" },
  events: ["outbound.send", "subscription.completed", "subscription.fan-out"],
  content: sendContent,
  defaults: { messageset: 1, schedule: 1 },
  clock: () => clock.now,
});

/** Slots relative to now. */
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString();
/** Schedule 1's (`0 8 * * 1,4`, UTC) latest slot: the one the Seed send trigger sends for. */
const TRIGGER_SLOT = latestSlot("0 8 * * 1,4", "UTC", clock.now) as Date;
const SLOT_1 = new Date(TRIGGER_SLOT.getTime() - 86_400_000).toISOString();
const SLOT_3 = day(1);
const SLOT_4 = day(2);

describe("sending on a schedule", () => {
  it("sends each ready subscription its next message per slot, once, then completes and rolls over", async ({
    svc,
    capture,
    t,
  }) => {
    const eng = await t.subscribe({ identity: IDENTITY });
    const zul = await t.subscribe({ identity: "1c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b02", lang: "zul_ZA" });
    const afr = await t.subscribe({
      identity: "2c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b03",
      lang: "afr_ZA",
      metadata: { prepend_next_delivery: "Welcome!" },
    });
    const inactive = await t.subscribe({ identity: "3c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b04", active: false });

    await t.fire(SLOT_1, 1);
    await t.waitForSends({ [afr.identity]: 1, [eng.identity]: 1, [zul.identity]: 1 }, "first sends");
    expect(t.sendsTo(eng.identity)[0]).toMatchObject({ content: "one", metadata: { seq: 1 } });
    expect(t.sendsTo(zul.identity)[0]?.content).toBe("kunye");
    // No afr_ZA messages: falls back to eng_ZA; the prepend goes out once and is cleared.
    expect(t.sendsTo(afr.identity)[0]?.content).toBe("Welcome!\none");
    expect((await t.reload(afr.id)).metadata).toEqual({});
    expect((await t.reload(eng.id)).nextSequenceNumber).toBe(2);

    // The same slot again (a redelivered or duplicated trigger) sends nothing new.
    await t.fire(SLOT_1, 1);
    // The Seed send trigger (POST /api/v1/schedule/{id}/send/) sends the next message, for the schedule's latest slot.
    const trigger = await svc.app.inject({
      method: "POST",
      url: "/api/v1/schedule/1/send/",
      headers: adminAuth,
    });
    expect(trigger.statusCode).toBe(202);
    await waitFor(() => t.sendsTo(eng.identity).length === 2, { what: "second send" });
    expect(t.sendsTo(eng.identity).map((s) => s.content)).toEqual(["one", "two"]);
    expect(t.sendsTo(eng.identity).map((s) => s.priority)).toEqual(["bulk", "bulk"]);

    await t.fire(SLOT_3, 1);
    await waitFor(async () => (await t.reload(eng.id)).completed, { what: "completion" });
    const done = await t.reload(eng.id);
    expect(done).toMatchObject({ completed: true, active: false, processStatus: 2, nextSequenceNumber: 3 });
    await waitFor(() => t.sendsTo(eng.identity).length === 3, { what: "third send" });
    expect(t.sendsTo(eng.identity).map((s) => s.content)).toEqual(["one", "two", "three"]);
    // Each send says which subscription sent it and which message of the set it is (the helpdesk's "which was this?").
    expect(t.sendsTo(eng.identity).map((s) => [s.created_by_subscription, s.sequence_number])).toEqual([
      [eng.id, 1],
      [eng.id, 2],
      [eng.id, 3],
    ]);
    expect(new Set(t.sendsTo().map((s) => s.id)).size).toBe(t.sendsTo().length);

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
    await t.fire(SLOT_4, 1);
    await t.fire(SLOT_4, 2);
    await waitFor(() => t.sendsTo(eng.identity).length === 4, { what: "rollover send" });
    expect(t.sendsTo(eng.identity)[3]).toMatchObject({
      content: "baby one",
      created_by_subscription: next?.id,
      sequence_number: 1,
    });
    expect(t.sendsTo(inactive.identity)).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(t.sendsTo(eng.identity)).toHaveLength(4);
  });

  it("sends once when two workers get overlapping batches many times", async ({ svc, t }) => {
    const subs = await Promise.all(
      [
        "4c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b05",
        "5c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b06",
        "6c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b07",
      ].map((identity) => t.subscribe({ identity })),
    );
    const ids = subs.map((s) => s.id);
    await withSecondWorker(svc, async () => {
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
      await waitFor(() => subs.every((s) => t.sendsTo(s.identity).length >= 1), { what: "sends" });
      await new Promise((r) => setTimeout(r, 500));
      for (const sub of subs) {
        expect(t.sendsTo(sub.identity)).toHaveLength(1);
        expect((await t.reload(sub.id)).nextSequenceNumber).toBe(2);
      }
    });
  });

  it("sends the rest of a batch when one subscription's content has not arrived, and that one once it has", async ({
    svc,
    t,
  }) => {
    await publishContent(svc, { sets: [set(3, null, 1)], messages: [message(3, 1, { text: "set three" })] });
    const ready = await t.subscribe({ identity: "7c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b08", messageset: 3 });
    const early = await t.subscribe({
      identity: "8c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b09",
      messageset: 3,
      next_sequence_number: 2,
    });
    await svc.broker.publish("subscription.send-next", {
      subscription_ids: [ready.id, early.id],
      schedule: 1,
      slot: day(4),
    });
    await waitFor(() => t.sendsTo(ready.identity).length === 1, { what: "the ready one" });
    expect(t.sendsTo(early.identity)).toHaveLength(0);
    // Message 2 of set 3 arrives: the deferred subscription is retried on its own and sent, once.
    await svc.broker.publish("content.message.changed", message(3, 2, { text: "set three, two" }));
    await waitFor(() => t.sendsTo(early.identity).length === 1, {
      what: "the deferred one",
      timeoutMs: 15_000,
    });
    expect(t.sendsTo(early.identity)[0]?.content).toBe("set three, two");
    expect((await t.reload(early.id)).completed).toBe(true);
    expect(t.sendsTo(ready.identity)).toHaveLength(1);
  });

  it("advances subscriptions of a dry-run set without sending", async ({ svc, t }) => {
    await publishContent(svc, {
      sets: [set(4, null, 1)],
      messages: [message(4, 1, { text: "dry one" }), message(4, 2, { text: "dry two" })],
    });
    const sub = await t.subscribe({ identity: "cc6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b13", messageset: 4 });
    await svc.broker.publish("subscription.send-next", {
      subscription_ids: [sub.id],
      schedule: 1,
      slot: day(5),
    });
    await waitFor(async () => (await t.reload(sub.id)).nextSequenceNumber === 2, { what: "advanced" });
    await new Promise((r) => setTimeout(r, 300));
    expect(t.sendsTo(sub.identity)).toHaveLength(0);
  });
});

describe("sending on request", () => {
  it("resends the last message without advancing; 400 for an unknown subscription (inactive and completed ones: resend.int.test.ts)", async ({
    svc,
    t,
  }) => {
    const sub = await t.subscribe({
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
    const sent = await waitFor(() => t.sendsTo(sub.identity).find((s) => s.id === res.json().outbound), {
      what: "resend",
    });
    expect(sent).toMatchObject({
      content: "two",
      resend: true,
      priority: "normal",
      created_by_subscription: sub.id,
      sequence_number: 2,
    });
    expect((await t.reload(sub.id)).nextSequenceNumber).toBe(3);
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

  it("sends nothing on Seed's legacy POST /subscriptions/{id}/send, as Seed 0.10 and later; 400 for an unknown one", async ({
    svc,
    t,
  }) => {
    const sub = await t.subscribe({
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
    // The subscription's content schedule sends to it: a send here as well would be a second one that slot.
    for (const url of [`/api/v1/subscriptions/${sub.id}/send`, `/api/v1/subscriptions/${sub.id}/send/`]) {
      const res = await send(url);
      expect(res.statusCode).toBe(201);
      expect(res.json()).toEqual({ accepted: true });
    }
    await t.fire(SLOT_3, 1);
    await t.waitForSends({ [sub.identity]: 1 }, "the slot's send");
    await new Promise((r) => setTimeout(r, 300));
    expect(t.sendsTo(sub.identity).map((s) => s.content)).toEqual(["two"]);
    expect((await t.reload(sub.id)).nextSequenceNumber).toBe(3);

    const unknown = await send("/api/v1/subscriptions/00000000-0000-4000-8000-000000000000/send");
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toMatchObject({
      code: "SUBSCRIPTION_NOT_FOUND",
      message: "Cannot find subscription with ID 00000000-0000-4000-8000-000000000000",
    });
  });
});

describe("Seed's send trigger POST /api/v1/schedule/{id}/send/ (what a migrated Seed scheduler schedule calls)", () => {
  /** Schedule 5, `0 8 * * 1,4` in UTC (saved at T, 2026-03-01), and set 5 on it. */
  const SCHEDULE = 5;

  it("sends each subscription once per slot of the schedule (its latest at or before now), however often it is called", async ({
    svc,
    t,
    capture,
  }) => {
    await publishContent(svc, {
      schedules: [scheduleEvent(SCHEDULE)],
      sets: [set(5, null, SCHEDULE)],
      messages: [1, 2, 3, 4].map((n) => message(5, n, { text: `five ${n}` })),
    });
    const subs = await Promise.all(
      ["d1000000-0000-4000-8000-000000000001", "d1000000-0000-4000-8000-000000000002"].map((identity) =>
        t.subscribe({ identity, messageset: 5, schedule: SCHEDULE }),
      ),
    );
    const texts = () => subs.map((s) => t.sendsTo(s.identity).map((o) => o.content));
    const trigger = async (at: string) => {
      clock.now = new Date(at);
      const res = await svc.app.inject({
        method: "POST",
        url: `/api/v1/schedule/${SCHEDULE}/send/`,
        headers: adminAuth,
      });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({});
    };
    const settledSends = async () => {
      await t.settled();
      return t.sendsTo().length;
    };

    // Before the schedule was saved (T) it had no slot: answered as Seed answers, and nothing is sent.
    await trigger("2026-02-26T12:00:00.000Z");
    await t.settled();
    expect(texts()).toEqual([[], []]);

    // Monday 08:00's slot, called an hour later: each is sent its next message.
    await trigger("2026-06-01T09:00:00.000Z");
    await t.waitForSends(Object.fromEntries(subs.map((s) => [s.identity, 1])), "Monday's sends");
    const afterMonday = await settledSends();
    // Called again (and again) before Thursday 08:00: the same slot, nothing more is sent to anyone, nor is the
    // schedule's every subscription paged through again.
    await trigger("2026-06-01T09:00:05.000Z");
    await trigger("2026-06-04T07:59:59.999Z");
    expect(await settledSends()).toBe(afterMonday);
    const mondays = capture
      .named<{ schedule: number; slot: string }>("subscription.fan-out")
      .filter((f) => f.schedule === SCHEDULE && f.slot === "2026-06-01T08:00:00.000Z");
    expect(mondays).toHaveLength(1);
    expect(texts()).toEqual([["five 1"], ["five 1"]]);
    expect((await t.reload(subs[0]?.id as string)).lastSlot?.toISOString()).toBe("2026-06-01T08:00:00.000Z");

    // From Thursday 08:00 on, the next slot: the next message.
    await trigger("2026-06-04T08:00:00.000Z");
    await t.waitForSends(Object.fromEntries(subs.map((s) => [s.identity, 2])), "Thursday's sends");
    await trigger("2026-06-04T08:30:00.000Z");
    await t.settled();
    expect(texts()).toEqual([
      ["five 1", "five 2"],
      ["five 1", "five 2"],
    ]);

    // The scheduler's own fire of its mirror of the schedule (admin only) still sends, stamped with its time;
    // the trigger in the same slot sends nothing after it.
    await svc.broker.publish("schedule.fired", {
      schedule_id: "2f4b8c7e-9a1d-4e3f-8b2a-1c0d9e8f7a6b",
      slot: "2026-06-04T10:00:00.000Z",
      manual: true,
      source: { service: "content", ref: String(SCHEDULE) },
      payload: {},
    });
    await t.waitForSends(Object.fromEntries(subs.map((s) => [s.identity, 3])), "the scheduler's fire");
    const afterFire = await settledSends();
    await trigger("2026-06-04T11:00:00.000Z");
    expect(await settledSends()).toBe(afterFire);
    expect(texts()).toEqual([
      ["five 1", "five 2", "five 3"],
      ["five 1", "five 2", "five 3"],
    ]);
  });
});
