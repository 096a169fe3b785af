import type { SubscriptionResponse } from "@tidings/contracts";
import { adminAuth, type TestService, waitFor } from "@tidings/testing";
import { expect } from "vitest";
import type { SubscriptionConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";

export type Svc = TestService<SubscriptionConfig, Db>;

export const T = "2026-03-01T00:00:00.000Z";

/** Content's payloads as its events carry them (created and updated at `T`); a schedule fires on `cron`. */
export const scheduleEvent = (id: number, cron = "0 8 * * 1,4") => {
  const [minute, hour, day_of_month, month_of_year, day_of_week] = cron.split(" ") as [
    string,
    string,
    string,
    string,
    string,
  ];
  return {
    id,
    minute,
    hour,
    day_of_week,
    day_of_month,
    month_of_year,
    timezone: "UTC",
    cron_definition: cron,
    created_at: T,
    updated_at: T,
  };
};
export const messageSetEvent = (
  id: number,
  next_set: number | null,
  default_schedule: number,
  content_type: "text" | "audio" = "text",
) => ({
  id,
  short_name: `set-${id}`,
  label: "",
  notes: null,
  channel: null,
  next_set,
  default_schedule,
  content_type,
  created_at: T,
  updated_at: T,
});
export const messageEvent = (
  id: number,
  messageset: number,
  sequence_number: number,
  lang: string,
  text: string | null,
  url?: string,
) => ({
  id,
  messageset,
  sequence_number,
  lang,
  text_content: text,
  binary_content: url ? id : null,
  binary_content_url: url ?? null,
  metadata: { seq: sequence_number },
  created_at: T,
  updated_at: T,
});

let messageId = 100_000;
/** A message with an id of its own; its text is "<set>/<sequence>" unless `text` says otherwise. */
export const message = (
  messageset: number,
  sequence_number: number,
  { lang = "eng_ZA", text, url }: { lang?: string; text?: string | null; url?: string } = {},
) =>
  messageEvent(
    ++messageId,
    messageset,
    sequence_number,
    lang,
    text === undefined ? `${messageset}/${sequence_number}` : text,
    url,
  );

/** Messages 1 to `count` of `messageset` in `lang`. */
export const messages = (messageset: number, count: number, lang = "eng_ZA") =>
  Array.from({ length: count }, (_, i) => message(messageset, i + 1, { lang }));

export interface ContentEvents {
  schedules: ReturnType<typeof scheduleEvent>[];
  sets: ReturnType<typeof messageSetEvent>[];
  messages: ReturnType<typeof messageEvent>[];
}

/** Publishes content as the content service would and waits for the local copies of all of it. */
export async function publishContent(
  svc: Svc,
  { schedules = [], sets = [], messages = [] }: Partial<ContentEvents>,
): Promise<void> {
  for (const s of schedules) {
    await svc.broker.publish("content.schedule.changed", s);
  }
  for (const s of sets) {
    await svc.broker.publish("content.messageset.changed", s);
  }
  for (const m of messages) {
    await svc.broker.publish("content.message.changed", m);
  }
  const ids = (events: { id: number }[]) => ({ where: { id: { in: events.map((e) => e.id) } } });
  await waitFor(
    async () =>
      (await svc.db.messageCopy.count(ids(messages))) === messages.length &&
      (await svc.db.messageSetCopy.count(ids(sets))) === sets.length &&
      (await svc.db.scheduleCopy.count(ids(schedules))) === schedules.length,
    { what: "content copies", timeoutMs: 20_000 },
  );
}

/** A message set of `length` text messages in eng_ZA ("<set>/<sequence>"), on schedule `schedule`. */
export interface TestSet {
  id: number;
  length: number;
  nextSet?: number;
}

/** Announces one weekly schedule, the sets and their messages, and waits for the local copies. */
export const announceContent = (svc: Svc, schedule: number, sets: TestSet[]): Promise<void> =>
  publishContent(svc, {
    schedules: [scheduleEvent(schedule)],
    sets: sets.map((set) => messageSetEvent(set.id, set.nextSet ?? null, schedule)),
    messages: sets.flatMap((set) => messages(set.id, set.length)),
  });

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** An admin request to the subscription API. */
export const api = (svc: Svc, method: Method, url: string, payload?: object) =>
  svc.app.inject({ method, url, headers: adminAuth, ...(payload === undefined ? {} : { payload }) });

/** POST /api/v1/subscriptions/ (eng_ZA), expecting `status`. */
export async function subscribe(
  svc: Svc,
  body: Record<string, unknown>,
  status: 200 | 201 = 201,
): Promise<SubscriptionResponse> {
  const res = await api(svc, "POST", "/api/v1/subscriptions/", { lang: "eng_ZA", ...body });
  expect(res.statusCode, res.body).toBe(status);
  return res.json();
}

let identitySeq = 0;
/** A fresh identity id per call (unique within a test file's database). */
/**
 * Sends one subscription its next message now, as a slot of its schedule does for each ready subscription: a
 * `subscription.send-next` for it alone (Seed's legacy per-subscription send no longer sends).
 */
export const sendNextNow = (svc: Svc, subscription: { id: string; schedule: number }) =>
  svc.broker.publish("subscription.send-next", {
    subscription_ids: [subscription.id],
    schedule: subscription.schedule,
    slot: new Date().toISOString(),
  });

export const newIdentity = () => `0d000000-0000-4000-8000-${String(++identitySeq).padStart(12, "0")}`;

/** Weekly schedules 1 and 2; set 1 ("one", "two", "three"; zul_ZA too) rolling over to set 2 ("baby one"). */
export const sendContent = (svc: Svc) =>
  publishContent(svc, {
    schedules: [scheduleEvent(1), scheduleEvent(2)],
    sets: [messageSetEvent(1, 2, 1), messageSetEvent(2, null, 2)],
    messages: [
      message(1, 1, { text: "one" }),
      message(1, 2, { text: "two" }),
      message(1, 3, { text: "three" }),
      message(1, 1, { lang: "zul_ZA", text: "kunye" }),
      message(1, 2, { lang: "zul_ZA", text: "kubili" }),
      message(1, 3, { lang: "zul_ZA", text: "kuthathu" }),
      message(2, 1, { text: "baby one" }),
    ],
  });

export const LANGUAGE = 30;

/** Daily schedule 30; sets 30 (eng_ZA and zul_ZA) and 31 (eng_ZA only), two messages each. */
export const languageContent = (svc: Svc) =>
  publishContent(svc, {
    schedules: [scheduleEvent(LANGUAGE, "0 8 * * *")],
    sets: [messageSetEvent(30, null, LANGUAGE), messageSetEvent(31, null, LANGUAGE)],
    messages: [...messages(30, 2), ...messages(30, 2, "zul_ZA"), ...messages(31, 2)],
  });
