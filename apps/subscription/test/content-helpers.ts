import type { Subscription } from "@tidings/contracts";
import { adminAuth, type TestService, waitFor } from "@tidings/testing";
import { expect } from "vitest";
import type { SubscriptionConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";

export type Svc = TestService<SubscriptionConfig, Db>;

export const T = "2026-03-01T00:00:00.000Z";

/** Content's payloads as its events carry them (created and updated at `T`). */
export const scheduleEvent = (id: number) => ({
  id,
  minute: "0",
  hour: "8",
  day_of_week: "1,4",
  day_of_month: "*",
  month_of_year: "*",
  timezone: "UTC",
  cron_definition: "0 8 * * 1,4",
  created_at: T,
  updated_at: T,
});
export const messageSetEvent = (id: number, next_set: number | null, default_schedule: number) => ({
  id,
  short_name: `set-${id}`,
  label: "",
  notes: null,
  channel: null,
  next_set,
  default_schedule,
  content_type: "text" as const,
  created_at: T,
  updated_at: T,
});
export const messageEvent = (
  id: number,
  messageset: number,
  sequence_number: number,
  lang: string,
  text: string,
) => ({
  id,
  messageset,
  sequence_number,
  lang,
  text_content: text,
  binary_content: null,
  metadata: { seq: sequence_number },
  created_at: T,
  updated_at: T,
});

/** A message set of `length` text messages in eng_ZA ("<set>/<sequence>"), on schedule `schedule`. */
export interface TestSet {
  id: number;
  length: number;
  nextSet?: number;
}

/**
 * Announces content as the content service would (one weekly schedule, the sets and their messages) and waits
 * for the local copies.
 */
export async function announceContent(svc: Svc, schedule: number, sets: TestSet[]): Promise<void> {
  await svc.broker.publish("content.schedule.changed", scheduleEvent(schedule));
  let messageId = schedule * 1000;
  for (const set of sets) {
    await svc.broker.publish(
      "content.messageset.changed",
      messageSetEvent(set.id, set.nextSet ?? null, schedule),
    );
    for (let sequence = 1; sequence <= set.length; sequence++) {
      await svc.broker.publish(
        "content.message.changed",
        messageEvent(++messageId, set.id, sequence, "eng_ZA", `${set.id}/${sequence}`),
      );
    }
  }
  const messages = sets.reduce((n, s) => n + s.length, 0);
  await waitFor(
    async () =>
      (await svc.db.messageCopy.count()) === messages &&
      (await svc.db.messageSetCopy.count()) === sets.length &&
      (await svc.db.scheduleCopy.count()) === 1,
    { what: "content copies", timeoutMs: 20_000 },
  );
}

export const api = (
  svc: Svc,
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  url: string,
  payload?: object,
) => svc.app.inject({ method, url, headers: adminAuth, ...(payload === undefined ? {} : { payload }) });

/** POST /api/v1/subscriptions/ (eng_ZA), expecting `status`. */
export async function subscribe(
  svc: Svc,
  body: Record<string, unknown>,
  status: 200 | 201 = 201,
): Promise<Subscription> {
  const res = await api(svc, "POST", "/api/v1/subscriptions/", { lang: "eng_ZA", ...body });
  expect(res.statusCode, res.body).toBe(status);
  return res.json();
}

let identitySeq = 0;
/** A fresh identity id per call (unique within a test file's database). */
export const newIdentity = () => `0d000000-0000-4000-8000-${String(++identitySeq).padStart(12, "0")}`;
