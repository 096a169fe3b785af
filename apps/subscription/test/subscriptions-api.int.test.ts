import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Subscription } from "@tidings/contracts";
import { adminAuth, expectError, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { NEW_CONTENT_WAIT_MS } from "../src/services/subscriptions.ts";
import { messageSetEvent, type Svc, scheduleEvent, sendContent, T } from "./content-helpers.ts";
import { subscriptionEvents, subscriptionEventsAfterAMoment, subscriptionTest } from "./support.ts";

const IDENTITY = "0c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b01";

const it = subscriptionTest({
  worker: true,
  events: ["subscription.updated"],
  content: sendContent,
  defaults: { messageset: 1, schedule: 1 },
});

/** The highest message set and schedule ids the service's copies hold. */
async function newestCopies(svc: Svc): Promise<{ set: number; schedule: number }> {
  const [sets, schedules] = await Promise.all([
    svc.db.messageSetCopy.aggregate({ _max: { id: true } }),
    svc.db.scheduleCopy.aggregate({ _max: { id: true } }),
  ]);
  return { set: sets._max.id ?? 0, schedule: schedules._max.id ?? 0 };
}

const subscribe = (svc: Svc, messageset: number, schedule: number) =>
  svc.app.inject({
    method: "POST",
    url: "/api/v1/subscriptions/",
    headers: adminAuth,
    payload: { identity: randomUUID(), messageset, schedule, lang: "eng_ZA" },
  });

describe("subscriptions API", () => {
  it("rejects unknown message sets and schedules with 400, creating nothing", async ({ svc }) => {
    const before = await svc.db.subscription.count();
    const newest = await newestCopies(svc);
    const started = Date.now();
    // Newer than every copy: waited for (content's event may be on its way), then refused.
    const res = await subscribe(svc, newest.set + 1000, newest.schedule + 1000);
    expectError(res, 400, "SUBSCRIPTION_UNKNOWN_CONTENT");
    expect(Date.now() - started).toBeGreaterThanOrEqual(NEW_CONTENT_WAIT_MS);
    expect(res.json().error.details.map((d: { field: string }) => d.field)).toEqual([
      "body.messageset",
      "body.schedule",
    ]);
    expect(await svc.db.subscription.count()).toBe(before);
  });

  it("waits for a message set and schedule content made a moment ago; refuses older unknown ones at once", async ({
    svc,
  }) => {
    const newest = await newestCopies(svc);
    const [set, schedule] = [newest.set + 3, newest.schedule + 3];
    const started = Date.now();
    const subscribing = subscribe(svc, set, schedule);
    // Content made them, and its events reach this service a moment after the hub's request.
    await sleep(300);
    await svc.broker.publish("content.schedule.changed", scheduleEvent(schedule));
    await svc.broker.publish("content.messageset.changed", messageSetEvent(set, null, schedule));

    const res = await subscribing;
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ messageset: set, schedule });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    // Older than the newest copies and never made (nor are deleted ones): no event is on its way.
    const refusedAt = Date.now();
    expectError(await subscribe(svc, set - 1, schedule - 1), 400, "SUBSCRIPTION_UNKNOWN_CONTENT");
    expect(Date.now() - refusedAt).toBeLessThan(NEW_CONTENT_WAIT_MS / 2);

    // A PATCH to a set made a moment ago waits for it too; one of no subscription is 404 whatever it names.
    const patch = (id: string, messageset: number) =>
      svc.app.inject({
        method: "PATCH",
        url: `/api/v1/subscriptions/${id}/`,
        headers: adminAuth,
        payload: { messageset },
      });
    const patching = patch(res.json().id, set + 1);
    await sleep(300);
    await svc.broker.publish("content.messageset.changed", messageSetEvent(set + 1, null, schedule));
    const patched = await patching;
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ messageset: set + 1 });
    expectError(await patch(randomUUID(), set + 100), 404, "SUBSCRIPTION_NOT_FOUND");
  });

  it("creates one subscription for a hub request delivered twice", async ({ svc, t }) => {
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
    const sub = await t.reload(first.json().id);
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

  it("filters the list and 404s unknown ids and schedules", async ({ svc }) => {
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

  it("PATCHes a subscription, publishing subscription.updated; refuses unknown content and fields", async ({
    svc,
    capture,
    t,
  }) => {
    const sub = await t.subscribe({ identity: "9c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b10" });
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
      () => capture.named<Subscription>("subscription.updated").find((s) => s.id === sub.id && !s.active),
      {
        what: "subscription.updated",
      },
    );
    expect((await patch({ messageset: 42 })).json().error.code).toBe("SUBSCRIPTION_UNKNOWN_CONTENT");
    expect((await patch({ actve: true })).statusCode).toBe(400);
    expect((await patch({})).statusCode).toBe(400);
    expect((await t.reload(sub.id)).lang).toBe("zul_ZA");
    const missing = await svc.app.inject({
      method: "PATCH",
      url: "/api/v1/subscriptions/00000000-0000-4000-8000-000000000000/",
      headers: adminAuth,
      payload: { active: true },
    });
    expect(missing.statusCode).toBe(404);
  });

  it("lists and sets its send estimate gauge through /api/metrics/ (Seed's scheduled_metrics)", async ({
    svc,
  }) => {
    const listed = await svc.app.inject({ method: "GET", url: "/api/metrics/", headers: adminAuth });
    expect(listed.json().metrics_available).toContain("subscription_send_estimate");
    const run = await svc.app.inject({ method: "POST", url: "/api/metrics/", headers: adminAuth });
    expect(run.statusCode).toBe(201);
    expect(run.json()).toEqual({ scheduled_metrics_initiated: true });
  });

  it("filters by a substring of the message set's short name", async ({ svc, t }) => {
    await t.subscribe({ messageset: 2, schedule: 2 });
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

  it("previews the send dates of the rest of the set", async ({ svc, t }) => {
    const sub = await t.subscribe({
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

  it("stops the subscriptions of a deleted identity, once", async ({ svc, capture, t }) => {
    const identity = "ec6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b15";
    const a = await t.subscribe({ identity });
    const b = await t.subscribe({ identity, messageset: 2, schedule: 2 });
    const other = await t.subscribe({ identity: "fc6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b16" });
    await svc.broker.publish("identity.deleted", { id: identity });
    await svc.broker.publish("identity.deleted", { id: identity });
    await waitFor(async () => !(await t.reload(a.id)).active && !(await t.reload(b.id)).active, {
      what: "stopped",
    });
    expect((await t.reload(other.id)).active).toBe(true);
    await waitFor(() => subscriptionEvents(capture, "subscription.updated", identity).length === 2, {
      what: "two subscription.updated",
    });
    expect(await subscriptionEventsAfterAMoment(capture, "subscription.updated", identity)).toHaveLength(2);
  });

  it("stops an identity's subscriptions on stopall, forget, unsubscribe and max failures, not on stop or a topic unsubscribe", async ({
    svc,
    t,
  }) => {
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
    const subs = await Promise.all(ids.map((identity) => t.subscribe({ identity })));
    await optout(ids[0] as string, "stopall");
    await optout(ids[1] as string, "forget");
    await optout(ids[2] as string, "unsubscribe");
    await svc.broker.publish("identity.max_failures", { identity_id: ids[3] as string, failure_count: 5 });
    await optout(ids[4] as string, "stop");
    await optout(ids[5] as string, "unsubscribe", "outbreak/ke");
    await waitFor(
      async () => (await Promise.all(subs.slice(0, 4).map((s) => t.reload(s.id)))).every((s) => !s.active),
      {
        what: "four stopped",
      },
    );
    await new Promise((r) => setTimeout(r, 300));
    expect((await t.reload((subs[4] as Subscription).id)).active).toBe(true);
    expect((await t.reload((subs[5] as Subscription).id)).active).toBe(true);
  });
});
