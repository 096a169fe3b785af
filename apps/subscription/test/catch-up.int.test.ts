import { type OutboundSend, type Subscription, toSeedTime } from "@tidings/contracts";
import { waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import {
  message,
  messages,
  newIdentity,
  publishContent,
  scheduleEvent as schedule,
  messageSetEvent as set,
} from "./content-helpers.ts";
import { subscriptionTest, withSecondWorker } from "./support.ts";

const DAILY = 10;
const CALENDAR = 11;
const BEHIND = 40;
const MON_THU = 50;
const TWICE_DAILY = 51;

const it = subscriptionTest({
  worker: true,
  events: ["outbound.send", "subscription.completed"],
  content: (svc) =>
    publishContent(svc, {
      schedules: [
        schedule(DAILY, "0 8 * * *"),
        schedule(CALENDAR, "0 8 * * *"),
        schedule(BEHIND, "0 8 * * *"),
        schedule(MON_THU, "0 8 * * 1,4"),
        schedule(TWICE_DAILY, "0 8,20 * * *"),
      ],
      sets: [
        set(10, null, DAILY),
        set(11, null, DAILY),
        set(12, null, DAILY),
        set(40, null, BEHIND),
        set(41, 42, BEHIND),
        set(42, null, BEHIND),
        set(50, null, MON_THU),
      ],
      messages: [
        ...[10, 11, 12].flatMap((s) => messages(s, 6)),
        ...messages(40, 10),
        ...messages(41, 2),
        message(42, 1),
        ...messages(50, 2),
      ],
    }),
});

describe("catch-up policies", () => {
  it("keeps a policy per message set, admin only; refuses bad input and unknown sets", async ({ svc, t }) => {
    const setPolicy = (id: number, catch_up: string, max_per_day = 2) =>
      t.api("PUT", `/api/v1/messagesets/${id}/policy/`, { catch_up, max_per_day });
    const defaults = await t.api("GET", "/api/v1/messagesets/10/policy/");
    expect(defaults.json()).toEqual({
      messageset: 10,
      catch_up: "send_all",
      max_per_day: 2,
      sending_window: null,
      configured: false,
    });
    const bad = await setPolicy(10, "send_some");
    expect(bad.statusCode).toBe(400);
    expect((await t.api("PUT", "/api/v1/messagesets/10/policy/", { catch_up: "send_all" })).statusCode).toBe(
      400,
    );
    expect((await setPolicy(999, "send_all")).json().error.code).toBe("SUBSCRIPTION_MESSAGESET_NOT_FOUND");
    expect(await svc.db.messageSetPolicy.count()).toBe(0);
    const token = (await t.api("POST", "/api/v1/user/token/", { email: "hub@example.org" })).json().token;
    const asUser = await svc.app.inject({
      method: "PUT",
      url: "/api/v1/messagesets/10/policy/",
      headers: { authorization: `Token ${token}` },
      payload: { catch_up: "skip_to_current", max_per_day: 1 },
    });
    expect(asUser.statusCode).toBe(403);

    expect((await setPolicy(10, "send_all", 2)).json()).toEqual({
      messageset: 10,
      catch_up: "send_all",
      max_per_day: 2,
      sending_window: null,
      configured: true,
    });
    expect((await setPolicy(11, "skip_to_current")).statusCode).toBe(200);
    expect((await setPolicy(12, "latest_only")).statusCode).toBe(200);
  });

  it("applies each policy to subscriptions behind their anchor, once, with two workers and repeated triggers", async ({
    svc,
    capture,
    t,
  }) => {
    const anchor = "2026-01-01T00:00:00.000Z";
    const all = await t.subscribe({ messageset: 10, schedule: DAILY, anchor_at: anchor });
    const skip = await t.subscribe({ messageset: 11, schedule: DAILY, anchor_at: anchor });
    const latest = await t.subscribe({ messageset: 12, schedule: DAILY, anchor_at: anchor });
    const early = await t.subscribe({
      messageset: 10,
      schedule: DAILY,
      anchor_at: "2026-02-01T00:00:00.000Z",
    });
    expect(all.anchor_at).toBe(toSeedTime(new Date(anchor)));

    await withSecondWorker(svc, async () => {
      // Jan 4, 08:00 is the anchor's 4th slot: message 4 is due, 1-3 were missed.
      const jan4 = "2026-01-04T08:00:00.000Z";
      for (let i = 0; i < 3; i++) {
        await t.fire(jan4, DAILY);
      }
      await t.waitForSends({ [all.identity]: 2, [skip.identity]: 1, [latest.identity]: 2 }, "catch-up sends");
      await t.settled();
      expect(t.sequencesTo(all.identity)).toEqual([1, 2]); // send_all: at most 2 a day
      expect(t.sequencesTo(skip.identity)).toEqual([4]); // skip_to_current: only the due one
      expect(t.sequencesTo(latest.identity).sort()).toEqual([3, 4]); // latest_only: the last missed and the due
      expect(t.sendsTo(early.identity)).toHaveLength(0); // before its anchor: nothing
      expect((await t.reload(all.id)).nextSequenceNumber).toBe(3);
      expect((await t.reload(skip.id)).nextSequenceNumber).toBe(5);
      expect((await t.reload(latest.id)).nextSequenceNumber).toBe(5);
      expect((await t.reload(early.id)).nextSequenceNumber).toBe(1);

      // Another slot the same day: send_all's day is full, but one a slot is always sent.
      await t.fire("2026-01-04T20:00:00.000Z", DAILY);
      await waitFor(() => t.sendsTo(all.identity).length === 3, { what: "one more" });
      // A new day: two more (4, 5), caught up with the due message 5; then 6 completes it.
      await t.fire("2026-01-05T08:00:00.000Z", DAILY);
      await t.fire("2026-01-05T08:00:00.000Z", DAILY);
      await waitFor(() => t.sendsTo(all.identity).length === 5, { what: "next day" });
      await t.fire("2026-01-06T08:00:00.000Z", DAILY);
      await waitFor(async () => (await t.reload(all.id)).completed, { what: "completion" });
      await t.settled();
      expect(t.sequencesTo(all.identity)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(t.sequencesTo(skip.identity)).toEqual([4, 5, 6]);
      expect(t.sequencesTo(latest.identity).sort()).toEqual([3, 4, 5, 6]);
      const done = await t.reload(all.id);
      expect(done).toMatchObject({ active: false, completed: true, processStatus: 2, nextSequenceNumber: 6 });
      const ids = capture.named<OutboundSend>("outbound.send").map((s) => s.id);
      expect(new Set(ids).size).toBe(ids.length);
    });
  });

  it("previews the calendar as the set's policy will send it", async ({ t }) => {
    const midnight = new Date();
    midnight.setUTCHours(0, 0, 0, 0);
    const anchor_at = new Date(midnight.getTime() - 5 * 86_400_000).toISOString();
    const calendar = async (messageset: number) => {
      const sub = await t.subscribe({ messageset, schedule: CALENDAR, anchor_at });
      const res = await t.api("GET", `/api/v1/subscriptions/${sub.id}/calendar/`);
      expect(res.statusCode).toBe(200);
      return res.json() as { catch_up: string; sends: { sequence_number: number; at: string }[] };
    };
    // Six slots or more have passed by the first slot to come: the last message (6) is due there.
    const all = await calendar(10);
    expect(all.catch_up).toBe("send_all");
    expect(all.sends.map((s) => s.sequence_number)).toEqual([1, 2, 3, 4, 5, 6]);
    const days = all.sends.map((s) => s.at);
    expect(days[0]).toBe(days[1]);
    expect(days[2]).toBe(days[3]);
    expect(days[1]).not.toBe(days[2]);
    const skip = await calendar(11);
    expect(skip.sends.map((s) => s.sequence_number)).toEqual([6]);
    const latest = await calendar(12);
    expect(latest.sends.map((s) => s.sequence_number)).toEqual([5, 6]);
    expect(latest.sends[0]?.at).toBe(latest.sends[1]?.at);
  });
});

describe("behind subscriptions", () => {
  it("lists behind subscriptions and fast-forwards them without sending, once; completing and rolling over", async ({
    svc,
    capture,
    t,
  }) => {
    const threeDays = new Date(Date.now() - 3 * 86_400_000 - 3_600_000).toISOString();
    const behind = await t.subscribe({ messageset: 40, schedule: BEHIND, anchor_at: threeDays });
    const long = await t.subscribe({
      messageset: 41,
      schedule: BEHIND,
      anchor_at: "2026-01-01T00:00:00.000Z",
    });
    const onTime = await t.subscribe({ messageset: 40, schedule: BEHIND });
    const before = capture.named("outbound.send").length;

    const listed = await t.api("GET", "/api/v1/behind-subscriptions/?messageset=40");
    expect(listed.statusCode).toBe(200);
    const rows = listed.json().results as {
      subscription: string;
      messages_behind: number;
      current_sequence_number: number;
      expected_sequence_number: number;
    }[];
    expect(rows.map((r) => r.subscription)).toEqual([behind.id]);
    const row = rows[0];
    expect(row?.current_sequence_number).toBe(1);
    expect(row?.expected_sequence_number).toBeGreaterThanOrEqual(4);
    expect(row?.messages_behind).toBe((row?.expected_sequence_number ?? 0) - 1);
    const all = (await t.api("GET", "/api/v1/behind-subscriptions/")).json();
    expect(all.results.map((r: { subscription: string }) => r.subscription)).toEqual(
      expect.arrayContaining([behind.id, long.id]),
    );
    expect(all.results.map((r: { subscription: string }) => r.subscription)).not.toContain(onTime.id);
    // Set 41's two messages and its next_set 42's one are all due: the chain's end is where it should be.
    expect(all.results.find((r: { subscription: string }) => r.subscription === long.id)).toEqual({
      subscription: long.id,
      identity: long.identity,
      messages_behind: 3,
      current_messageset: 41,
      current_sequence_number: 1,
      expected_messageset: 42,
      expected_sequence_number: 1,
    });

    const ff = await t.api("POST", "/api/v1/behind-subscriptions/fast-forward/", {
      subscriptions: [behind.id, long.id, onTime.id],
    });
    expect(ff.statusCode).toBe(200);
    // behind, long, and long's successor on set 42, itself finished by now: the whole chain.
    expect(ff.json().fast_forwarded).toBe(3);
    expect((await t.reload(behind.id)).nextSequenceNumber).toBe(row?.expected_sequence_number);
    expect(await t.reload(long.id)).toMatchObject({
      completed: true,
      active: false,
      processStatus: 2,
      nextSequenceNumber: 2,
    });
    const rolled = await svc.db.subscription.findFirst({
      where: { identity: long.identity, messagesetId: 42 },
    });
    // Set 41's last message (2) was due in the anchor's second slot: the successor counts from there.
    expect(rolled).toMatchObject({
      scheduleId: BEHIND,
      anchorAt: new Date("2026-01-02T08:00:00.000Z"),
      completed: true,
      processStatus: 2,
    });
    expect((await t.reload(onTime.id)).nextSequenceNumber).toBe(1);

    const again = await t.api("POST", "/api/v1/behind-subscriptions/fast-forward/", { messageset: 40 });
    expect(again.json().fast_forwarded).toBe(0);
    expect((await t.api("GET", "/api/v1/behind-subscriptions/?messageset=40")).json().count).toBe(0);
    await waitFor(() => capture.named<Subscription>("subscription.completed").some((s) => s.id === long.id), {
      what: "completed event",
    });
    expect(capture.named("outbound.send").length).toBe(before);
    expect(
      (await t.api("POST", "/api/v1/behind-subscriptions/fast-forward/", { subscriptions: ["nope"] }))
        .statusCode,
    ).toBe(400);
  });
});

describe("daily send estimates", () => {
  it("counts subscriptions, identities and sends per set for the schedules firing that day", async ({
    t,
  }) => {
    const twice = newIdentity();
    await t.subscribe({ messageset: 50, schedule: MON_THU, identity: twice });
    // A second request for the same identity and set answers with the first (one active subscription each).
    const repeat = { messageset: 50, schedule: MON_THU, identity: twice, lang: "eng_ZA" };
    expect((await t.api("POST", "/api/v1/subscriptions/", repeat)).statusCode).toBe(200);
    await t.subscribe({ messageset: 50, schedule: MON_THU });
    await t.subscribe({ messageset: 50, schedule: TWICE_DAILY });
    await t.subscribe({ messageset: 50, schedule: MON_THU, active: false });
    const monday = (await t.api("GET", "/api/v1/estimates/?date=2026-11-23")).json().results;
    expect(monday.find((e: { messageset: number }) => e.messageset === 50)).toEqual({
      send_date: "2026-11-23",
      messageset: 50,
      estimate_subscriptions: 3,
      estimate_identities: 3,
      estimate_sends: 4,
    });
    const tuesday = (await t.api("GET", "/api/v1/estimates/?date=2026-11-24")).json().results;
    expect(tuesday.find((e: { messageset: number }) => e.messageset === 50)).toMatchObject({
      estimate_subscriptions: 1,
      estimate_sends: 2,
    });
    expect((await t.api("GET", "/api/v1/estimates/?date=tomorrow")).statusCode).toBe(400);
    expect((await t.api("GET", "/api/v1/estimates/")).statusCode).toBe(400);
  });
});
