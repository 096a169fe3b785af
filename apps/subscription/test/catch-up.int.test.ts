import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
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

let svc: TestService<SubscriptionConfig, Db>;
let capture: Capture;
let hookServer: Server;
const hookBodies: { path: string; body: { hook: { event: string }; data: Subscription } }[] = [];
const T = "2026-01-01T00:00:00.000Z";
const DAILY = 10;
const CALENDAR = 11;
const MEDIA = 20;
const LANGUAGE = 30;
const BEHIND = 40;
const MON_THU = 50;
const TWICE_DAILY = 51;

const schedule = (id: number, cron: string) => {
  const [minute, hour, day_of_month, month_of_year, day_of_week] = cron.split(" ") as string[];
  return {
    id,
    minute: minute as string,
    hour: hour as string,
    day_of_week: day_of_week as string,
    day_of_month: day_of_month as string,
    month_of_year: month_of_year as string,
    timezone: "UTC",
    cron_definition: cron,
    created_at: T,
    updated_at: T,
  };
};
const set = (
  id: number,
  default_schedule: number,
  extra: { next_set?: number; content_type?: "audio" } = {},
) => ({
  id,
  short_name: `catch-up-${id}`,
  label: "",
  notes: null,
  channel: null,
  next_set: extra.next_set ?? null,
  default_schedule,
  content_type: extra.content_type ?? ("text" as const),
  created_at: T,
  updated_at: T,
});
let messageId = 1000;
const message = (
  messageset: number,
  sequence_number: number,
  lang = "eng_ZA",
  extra: { text?: string | null; url?: string } = {},
) => ({
  id: ++messageId,
  messageset,
  sequence_number,
  lang,
  text_content: extra.text === undefined ? `${messageset}/${sequence_number}/${lang}` : extra.text,
  binary_content: extra.url ? messageId : null,
  binary_content_url: extra.url ?? null,
  metadata: { seq: sequence_number },
  created_at: T,
  updated_at: T,
});

let identitySeq = 0;
const newIdentity = () => `00000000-0000-4000-8000-${String(++identitySeq).padStart(12, "0")}`;

const sendsTo = (identity: string) =>
  capture.named<OutboundSend>("outbound.send").filter((s) => s.to_identity === identity);
const sequencesTo = (identity: string) => sendsTo(identity).map((s) => (s.metadata as { seq: number }).seq);
const reload = (id: string) => svc.db.subscription.findUniqueOrThrow({ where: { id } });

const api = (
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  url: string,
  payload?: Record<string, unknown>,
) => svc.app.inject({ method, url, headers: adminAuth, ...(payload === undefined ? {} : { payload }) });

async function subscribe(body: Record<string, unknown>): Promise<Subscription> {
  const res = await api("POST", "/api/v1/subscriptions/", {
    identity: newIdentity(),
    lang: "eng_ZA",
    ...body,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const fire = (slot: string, scheduleId: number) =>
  svc.broker.publish("schedule.fired", {
    schedule_id: "2f4b8c7e-9a1d-4e3f-8b2a-1c0d9e8f7a6b",
    slot,
    manual: false,
    source: { service: "content", ref: String(scheduleId) },
    payload: {},
  });

const setPolicy = (id: number, catch_up: string, max_per_day = 2) =>
  api("PUT", `/api/v1/messagesets/${id}/policy/`, { catch_up, max_per_day });

/** Waits until nothing more is sent for a moment, so a duplicate would have shown up. */
async function settled(): Promise<void> {
  let last = -1;
  await waitFor(
    async () => {
      const now = capture.named("outbound.send").length;
      const stable = now === last;
      last = now;
      await new Promise((r) => setTimeout(r, 400));
      return stable;
    },
    { what: "no more sends", timeoutMs: 20_000 },
  );
}

beforeAll(async () => {
  hookServer = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      hookBodies.push({ path: req.url ?? "/", body: JSON.parse(body) });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => hookServer.listen(0, "127.0.0.1", resolve));
  svc = await startTestService(subscriptionService, {
    worker: true,
    env: { HOOK_RETRY_BASE_MS: "20", HOOK_POLL_INTERVAL_MS: "20" },
  });
  capture = await captureMessages(svc.namespace, [
    "outbound.send",
    "subscription.created",
    "subscription.updated",
    "subscription.completed",
  ]);
  const schedules = [
    schedule(DAILY, "0 8 * * *"),
    schedule(CALENDAR, "0 8 * * *"),
    schedule(MEDIA, "0 8 * * *"),
    schedule(LANGUAGE, "0 8 * * *"),
    schedule(BEHIND, "0 8 * * *"),
    schedule(MON_THU, "0 8 * * 1,4"),
    schedule(TWICE_DAILY, "0 8,20 * * *"),
  ];
  const sets = [
    set(10, DAILY),
    set(11, DAILY),
    set(12, DAILY),
    set(20, MEDIA, { content_type: "audio" }),
    set(21, MEDIA),
    set(30, LANGUAGE),
    set(31, LANGUAGE),
    set(40, BEHIND),
    set(41, BEHIND, { next_set: 42 }),
    set(42, BEHIND),
    set(50, MON_THU),
  ];
  const messages = [
    ...[10, 11, 12].flatMap((s) => [1, 2, 3, 4, 5, 6].map((n) => message(s, n))),
    message(20, 1, "eng_ZA", { text: null, url: "https://files.example/a1.mp3" }),
    message(20, 2, "eng_ZA", { text: null, url: "https://files.example/a2.mp3" }),
    message(21, 1, "eng_ZA", { text: "look", url: "https://files.example/i1.png" }),
    message(21, 2),
    message(30, 1),
    message(30, 2),
    message(30, 1, "zul_ZA"),
    message(30, 2, "zul_ZA"),
    message(31, 1),
    message(31, 2),
    ...Array.from({ length: 10 }, (_, i) => message(40, i + 1)),
    message(41, 1),
    message(41, 2),
    message(42, 1),
    message(50, 1),
    message(50, 2),
  ];
  for (const s of schedules) {
    await svc.broker.publish("content.schedule.changed", s);
  }
  for (const s of sets) {
    await svc.broker.publish("content.messageset.changed", s);
  }
  for (const m of messages) {
    await svc.broker.publish("content.message.changed", m);
  }
  await waitFor(
    async () =>
      (await svc.db.messageCopy.count()) === messages.length &&
      (await svc.db.messageSetCopy.count()) === sets.length &&
      (await svc.db.scheduleCopy.count()) === schedules.length,
    { what: "content copies", timeoutMs: 20_000 },
  );
});
afterAll(async () => {
  await capture?.stop();
  await svc?.close();
  await new Promise((resolve) => hookServer?.close(resolve));
});

describe("catch-up policies", () => {
  it("keeps a policy per message set, admin only; refuses bad input and unknown sets", async () => {
    const defaults = await api("GET", "/api/v1/messagesets/10/policy/");
    expect(defaults.json()).toEqual({
      messageset: 10,
      catch_up: "send_all",
      max_per_day: 2,
      sending_window: null,
      configured: false,
    });
    const bad = await setPolicy(10, "send_some");
    expect(bad.statusCode).toBe(400);
    expect((await api("PUT", "/api/v1/messagesets/10/policy/", { catch_up: "send_all" })).statusCode).toBe(
      400,
    );
    expect((await setPolicy(999, "send_all")).json().error.code).toBe("SUBSCRIPTION_MESSAGESET_NOT_FOUND");
    expect(await svc.db.messageSetPolicy.count()).toBe(0);
    const token = (await api("POST", "/api/v1/user/token/", { email: "hub@example.org" })).json().token;
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

  it("applies each policy to subscriptions behind their anchor, once, with two workers and repeated triggers", async () => {
    const anchor = "2026-01-01T00:00:00.000Z";
    const all = await subscribe({ messageset: 10, schedule: DAILY, anchor_at: anchor });
    const skip = await subscribe({ messageset: 11, schedule: DAILY, anchor_at: anchor });
    const latest = await subscribe({ messageset: 12, schedule: DAILY, anchor_at: anchor });
    const early = await subscribe({ messageset: 10, schedule: DAILY, anchor_at: "2026-02-01T00:00:00.000Z" });
    expect(all.anchor_at).toBe(anchor);

    const db2 = createDb(svc.config.DATABASE_URL);
    const broker2 = await Broker.connect({
      url: AMQP_URL,
      namespace: svc.namespace,
      service: "subscription",
      logger: testLogger(),
    });
    const stop2 = await startServiceWorker(subscriptionService, { ...svc, db: db2, broker: broker2 });
    try {
      // Jan 4, 08:00 is the anchor's 4th slot: message 4 is due, 1-3 were missed.
      const jan4 = "2026-01-04T08:00:00.000Z";
      for (let i = 0; i < 3; i++) {
        await fire(jan4, DAILY);
      }
      await waitFor(
        () =>
          sendsTo(all.identity).length === 2 &&
          sendsTo(skip.identity).length === 1 &&
          sendsTo(latest.identity).length === 2,
        { what: "catch-up sends" },
      );
      await settled();
      expect(sequencesTo(all.identity)).toEqual([1, 2]); // send_all: at most 2 a day
      expect(sequencesTo(skip.identity)).toEqual([4]); // skip_to_current: only the due one
      expect(sequencesTo(latest.identity).sort()).toEqual([3, 4]); // latest_only: the last missed and the due
      expect(sendsTo(early.identity)).toHaveLength(0); // before its anchor: nothing
      expect((await reload(all.id)).nextSequenceNumber).toBe(3);
      expect((await reload(skip.id)).nextSequenceNumber).toBe(5);
      expect((await reload(latest.id)).nextSequenceNumber).toBe(5);
      expect((await reload(early.id)).nextSequenceNumber).toBe(1);

      // Another slot the same day: send_all's day is full, but one a slot is always sent.
      await fire("2026-01-04T20:00:00.000Z", DAILY);
      await waitFor(() => sendsTo(all.identity).length === 3, { what: "one more" });
      // A new day: two more (4, 5), caught up with the due message 5; then 6 completes it.
      await fire("2026-01-05T08:00:00.000Z", DAILY);
      await fire("2026-01-05T08:00:00.000Z", DAILY);
      await waitFor(() => sendsTo(all.identity).length === 5, { what: "next day" });
      await fire("2026-01-06T08:00:00.000Z", DAILY);
      await waitFor(async () => (await reload(all.id)).completed, { what: "completion" });
      await settled();
      expect(sequencesTo(all.identity)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(sequencesTo(skip.identity)).toEqual([4, 5, 6]);
      expect(sequencesTo(latest.identity).sort()).toEqual([3, 4, 5, 6]);
      const done = await reload(all.id);
      expect(done).toMatchObject({ active: false, completed: true, processStatus: 2, nextSequenceNumber: 6 });
      const ids = capture.named<OutboundSend>("outbound.send").map((s) => s.id);
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      await stop2();
      await broker2.close();
      await db2.$disconnect();
    }
  });

  it("previews the calendar as the set's policy will send it", async () => {
    const midnight = new Date();
    midnight.setUTCHours(0, 0, 0, 0);
    const anchor_at = new Date(midnight.getTime() - 5 * 86_400_000).toISOString();
    const calendar = async (messageset: number) => {
      const sub = await subscribe({ messageset, schedule: CALENDAR, anchor_at });
      const res = await api("GET", `/api/v1/subscriptions/${sub.id}/calendar/`);
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

describe("audio and image messages", () => {
  it("sends voice_speech_url for audio sets (after a prepended file), image_url with text, and the metadata", async () => {
    const audio = await subscribe({
      messageset: 20,
      schedule: MEDIA,
      metadata: { prepend_next_delivery: "https://files.example/welcome.mp3" },
    });
    const image = await subscribe({ messageset: 21, schedule: MEDIA });
    await fire("2026-03-02T08:00:00.000Z", MEDIA);
    await waitFor(() => sendsTo(audio.identity).length === 1 && sendsTo(image.identity).length === 1, {
      what: "media sends",
    });
    expect(sendsTo(audio.identity)[0]?.metadata).toEqual({
      seq: 1,
      voice_speech_url: ["https://files.example/welcome.mp3", "https://files.example/a1.mp3"],
    });
    expect(sendsTo(image.identity)[0]).toMatchObject({
      content: "look",
      metadata: { seq: 1, image_url: "https://files.example/i1.png" },
    });
    expect(sendsTo(image.identity)[0]?.sending_window).toBeUndefined();
    // Quiet hours on the image set: its later sends carry the window, which the message sender waits for.
    const window = { start: "09:00", end: "17:00", timezone: "Africa/Johannesburg" };
    const badWindow = await api("PUT", "/api/v1/messagesets/21/policy/", {
      catch_up: "send_all",
      max_per_day: 2,
      sending_window: { start: "25:00", end: "17:00" },
    });
    expect(badWindow.statusCode).toBe(400);
    const badZone = await api("PUT", "/api/v1/messagesets/21/policy/", {
      catch_up: "send_all",
      max_per_day: 2,
      sending_window: { start: "09:00", end: "17:00", timezone: "Mars/Olympus_Mons" },
    });
    expect(badZone.json().error.details).toEqual([
      { field: "body.sending_window.timezone", message: "not an IANA time zone" },
    ]);
    expect(await svc.db.messageSetPolicy.findUnique({ where: { messagesetId: 21 } })).toBeNull();
    const quiet = await api("PUT", "/api/v1/messagesets/21/policy/", {
      catch_up: "send_all",
      max_per_day: 2,
      sending_window: window,
    });
    expect(quiet.json()).toMatchObject({ messageset: 21, sending_window: window, configured: true });
    await fire("2026-03-03T08:00:00.000Z", MEDIA);
    await waitFor(() => sendsTo(audio.identity).length === 2 && sendsTo(image.identity).length === 2, {
      what: "second sends",
    });
    expect(sendsTo(audio.identity)[1]?.metadata).toEqual({
      seq: 2,
      voice_speech_url: ["https://files.example/a2.mp3"],
    });
    expect(sendsTo(image.identity)[1]?.metadata).toEqual({ seq: 2 });
    expect(sendsTo(image.identity)[1]?.sending_window).toEqual(window);
    expect(sendsTo(audio.identity)[1]?.sending_window).toBeUndefined();
    expect((await reload(audio.id)).metadata).toEqual({});
  });
});

describe("behind subscriptions", () => {
  it("lists behind subscriptions and fast-forwards them without sending, once; completing and rolling over", async () => {
    const threeDays = new Date(Date.now() - 3 * 86_400_000 - 3_600_000).toISOString();
    const behind = await subscribe({ messageset: 40, schedule: BEHIND, anchor_at: threeDays });
    const long = await subscribe({ messageset: 41, schedule: BEHIND, anchor_at: "2026-01-01T00:00:00.000Z" });
    const onTime = await subscribe({ messageset: 40, schedule: BEHIND });
    const before = capture.named("outbound.send").length;

    const listed = await api("GET", "/api/v1/behind-subscriptions/?messageset=40");
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
    const all = (await api("GET", "/api/v1/behind-subscriptions/")).json();
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

    const ff = await api("POST", "/api/v1/behind-subscriptions/fast-forward/", {
      subscriptions: [behind.id, long.id, onTime.id],
    });
    expect(ff.statusCode).toBe(200);
    // behind, long, and long's successor on set 42, itself finished by now: the whole chain.
    expect(ff.json().fast_forwarded).toBe(3);
    expect((await reload(behind.id)).nextSequenceNumber).toBe(row?.expected_sequence_number);
    expect(await reload(long.id)).toMatchObject({
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
    expect((await reload(onTime.id)).nextSequenceNumber).toBe(1);

    const again = await api("POST", "/api/v1/behind-subscriptions/fast-forward/", { messageset: 40 });
    expect(again.json().fast_forwarded).toBe(0);
    expect((await api("GET", "/api/v1/behind-subscriptions/?messageset=40")).json().count).toBe(0);
    await waitFor(() => capture.named<Subscription>("subscription.completed").some((s) => s.id === long.id), {
      what: "completed event",
    });
    expect(capture.named("outbound.send").length).toBe(before);
    expect(
      (await api("POST", "/api/v1/behind-subscriptions/fast-forward/", { subscriptions: ["nope"] }))
        .statusCode,
    ).toBe(400);
  });
});

describe("daily send estimates", () => {
  it("counts subscriptions, identities and sends per set for the schedules firing that day", async () => {
    const twice = newIdentity();
    await subscribe({ messageset: 50, schedule: MON_THU, identity: twice });
    // A second request for the same identity and set answers with the first (one active subscription each).
    const repeat = { messageset: 50, schedule: MON_THU, identity: twice, lang: "eng_ZA" };
    expect((await api("POST", "/api/v1/subscriptions/", repeat)).statusCode).toBe(200);
    await subscribe({ messageset: 50, schedule: MON_THU });
    await subscribe({ messageset: 50, schedule: TWICE_DAILY });
    await subscribe({ messageset: 50, schedule: MON_THU, active: false });
    const monday = (await api("GET", "/api/v1/estimates/?date=2026-11-23")).json().results;
    expect(monday.find((e: { messageset: number }) => e.messageset === 50)).toEqual({
      send_date: "2026-11-23",
      messageset: 50,
      estimate_subscriptions: 3,
      estimate_identities: 3,
      estimate_sends: 4,
    });
    const tuesday = (await api("GET", "/api/v1/estimates/?date=2026-11-24")).json().results;
    expect(tuesday.find((e: { messageset: number }) => e.messageset === 50)).toMatchObject({
      estimate_subscriptions: 1,
      estimate_sends: 2,
    });
    expect((await api("GET", "/api/v1/estimates/?date=tomorrow")).statusCode).toBe(400);
    expect((await api("GET", "/api/v1/estimates/")).statusCode).toBe(400);
  });
});

describe("subscriptions API parity", () => {
  it("filters on metadata keys, replaces with PUT and deletes", async () => {
    const withKey = await subscribe({
      messageset: 31,
      schedule: LANGUAGE,
      metadata: { converted_full: true },
    });
    const without = await subscribe({ messageset: 31, schedule: LANGUAGE, metadata: { other: 1 } });
    const nulled = await subscribe({ messageset: 31, schedule: LANGUAGE, metadata: null });
    const nullValue = await subscribe({
      messageset: 31,
      schedule: LANGUAGE,
      metadata: { converted_full: null },
    });
    // A null metadata (Seed's metadata is nullable) has no keys.
    expect(
      (await api("PATCH", `/api/v1/subscriptions/${nulled.id}/`, { metadata: null })).json().metadata,
    ).toBe(null);
    const ids = async (query: string) =>
      (await api("GET", `/api/v1/subscriptions/?messageset=31&${query}`))
        .json()
        .results.map((s: Subscription) => s.id);
    expect((await ids("metadata_has_key=converted_full")).sort()).toEqual([withKey.id, nullValue.id].sort());
    expect(await ids("metadata_not_has_key=converted_full")).toEqual(
      expect.arrayContaining([without.id, nulled.id]),
    );
    expect(await ids("metadata_not_has_key=converted_full")).not.toContain(withKey.id);
    expect(await ids("metadata_has_key=other&metadata_not_has_key=converted_full")).toEqual([without.id]);
    await api("PATCH", `/api/v1/subscriptions/${withKey.id}/`, { next_sequence_number: 2 });
    expect(await ids("next_sequence_number=2")).toEqual([withKey.id]);
    expect(await ids("initial_sequence_number=1")).toHaveLength(4);

    const put = await api("PUT", `/api/v1/subscriptions/${without.id}/`, {
      identity: without.identity,
      messageset: 30,
      schedule: LANGUAGE,
      lang: "zul_ZA",
      next_sequence_number: 2,
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ messageset: 30, lang: "zul_ZA", next_sequence_number: 2 });
    const partial = await api("PUT", `/api/v1/subscriptions/${without.id}/`, { lang: "eng_ZA" });
    expect(partial.statusCode).toBe(400);
    expect((await reload(without.id)).lang).toBe("zul_ZA");

    expect((await api("DELETE", `/api/v1/subscriptions/${nulled.id}/`)).statusCode).toBe(204);
    expect((await api("GET", `/api/v1/subscriptions/${nulled.id}/`)).statusCode).toBe(404);
    const again = await api("DELETE", `/api/v1/subscriptions/${nulled.id}/`);
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe("SUBSCRIPTION_NOT_FOUND");
  });
});

describe("language moves", () => {
  it("moves an identity's active subscriptions to its new language where the set has it, once", async () => {
    const identity = newIdentity();
    const movable = await subscribe({ identity, messageset: 30, schedule: LANGUAGE });
    const noZulu = await subscribe({ identity, messageset: 31, schedule: LANGUAGE });
    const stopped = await subscribe({ identity, messageset: 30, schedule: LANGUAGE, active: false });
    const changed = {
      id: identity,
      version: 1,
      details: { addresses: {}, lang_code: "zul_ZA" },
      communicate_through: null,
      operator: null,
      created_at: T,
      created_by: null,
      updated_at: T,
      updated_by: null,
      addresses: [],
    };
    await svc.broker.publish("identity.updated", changed);
    await svc.broker.publish("identity.updated", changed);
    await waitFor(async () => (await reload(movable.id)).lang === "zul_ZA", { what: "language move" });
    await settled();
    expect((await reload(noZulu.id)).lang).toBe("eng_ZA");
    expect((await reload(stopped.id)).lang).toBe("eng_ZA");
    const updates = capture
      .named<Subscription>("subscription.updated")
      .filter((s) => s.identity === identity);
    expect(updates.map((s) => [s.id, s.lang])).toEqual([[movable.id, "zul_ZA"]]);
  });
});

describe("REST hooks", () => {
  it("delivers subscription.created and subscription.updated to registered hooks", async () => {
    const base = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}`;
    for (const event of ["subscription.created", "subscription.updated"]) {
      const hook = await api("POST", "/api/v1/webhook/", { event, target: `${base}/${event}` });
      expect(hook.statusCode, hook.body).toBe(201);
    }
    expect(
      (await api("POST", "/api/v1/webhook/", { event: "subscription.exploded", target: `${base}/x` })).json()
        .error.code,
    ).toBe("SUBSCRIPTION_HOOK_UNKNOWN_EVENT");
    const sub = await subscribe({ messageset: 31, schedule: LANGUAGE });
    await api("PATCH", `/api/v1/subscriptions/${sub.id}/`, { active: false });
    await waitFor(
      () =>
        hookBodies.some((h) => h.path === "/subscription.created" && h.body.data.id === sub.id) &&
        hookBodies.some(
          (h) => h.path === "/subscription.updated" && h.body.data.id === sub.id && !h.body.data.active,
        ),
      { what: "hook deliveries", timeoutMs: 20_000 },
    );
    const created = hookBodies.find((h) => h.path === "/subscription.created" && h.body.data.id === sub.id);
    expect(created?.body.hook.event).toBe("subscription.created");
    expect(created?.body.data).toMatchObject({ messageset: 31, active: true });
  });
});

describe("identities without an address", () => {
  it("marks the subscription whose send failed for want of an address, stops sending, and resumes once it has one", async () => {
    const sub = await subscribe({ messageset: 31, schedule: LANGUAGE });
    const other = await subscribe({ messageset: 30, schedule: LANGUAGE });
    await fire("2026-04-01T08:00:00.000Z", LANGUAGE);
    await waitFor(() => sendsTo(sub.identity).length === 1 && sendsTo(other.identity).length === 1, {
      what: "first sends",
    });
    const failed = {
      id: sendsTo(sub.identity)[0]?.id as string,
      status: "failed" as const,
      to_identity: sub.identity,
      channel: "sms",
      provider_id: null,
      reason: "no address",
      at: new Date().toISOString(),
    };
    await svc.broker.publish("outbound.failed", failed);
    await svc.broker.publish("outbound.failed", failed);
    // Another reason, or another identity's outbound, marks nothing.
    await svc.broker.publish("outbound.failed", { ...failed, reason: "provider said no" });
    await svc.broker.publish("outbound.failed", { ...failed, to_identity: other.identity });
    await waitFor(async () => (await reload(sub.id)).processStatus === -1, { what: "marked" });
    await fire("2026-04-02T08:00:00.000Z", LANGUAGE);
    await waitFor(() => sendsTo(other.identity).length === 2, { what: "the other's second send" });
    await settled();
    expect(sendsTo(sub.identity)).toHaveLength(1);
    expect(await reload(sub.id)).toMatchObject({ processStatus: -1, nextSequenceNumber: 2 });
    expect((await reload(other.id)).processStatus).toBe(2); // sent both, completed: not marked
    const marked = capture.named<Subscription>("subscription.updated").filter((s) => s.id === sub.id);
    expect(marked.map((s) => s.process_status)).toEqual([-1]);

    await svc.broker.publish("identity.updated", {
      id: sub.identity,
      version: 2,
      details: { addresses: { msisdn: { "+27820000001": {} } } },
      communicate_through: null,
      operator: null,
      created_at: T,
      created_by: null,
      updated_at: T,
      updated_by: null,
      addresses: [
        {
          type: "msisdn",
          address: "+27820000001",
          default: true,
          optedout: false,
          inactive: false,
          verified: false,
        },
      ],
    });
    await waitFor(async () => (await reload(sub.id)).processStatus === 0, { what: "ready again" });
    await fire("2026-04-03T08:00:00.000Z", LANGUAGE);
    await waitFor(() => sendsTo(sub.identity).length === 2, { what: "resumed" });
    expect(sequencesTo(sub.identity)).toEqual([1, 2]);
  });
});
