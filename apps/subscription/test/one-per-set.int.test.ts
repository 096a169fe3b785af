import { readFile } from "node:fs/promises";
import { waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { announceContent, api, newIdentity, type Svc, sendNextNow, subscribe } from "./content-helpers.ts";
import { subscriptionEvents, subscriptionEventsAfterAMoment, subscriptionTest } from "./support.ts";

const SCHEDULE = 60;
const PREGNANCY = 60;
const BABY = 61;
const SHORT = 62;

const it = subscriptionTest({
  worker: true,
  events: ["subscription.created"],
  content: (svc) =>
    announceContent(svc, SCHEDULE, [
      { id: PREGNANCY, length: 3, nextSet: BABY },
      { id: BABY, length: 2 },
      { id: SHORT, length: 1, nextSet: BABY },
    ]),
});

const rowsOf = (svc: Svc, identity: string, messageset: number) =>
  svc.db.subscription.findMany({ where: { identity, messagesetId: messageset } });
const hubRequest = (identity: string, extra: Record<string, unknown> = {}) => ({
  hook: { id: 3, event: "subscriptionrequest.added", target: "http://hub.example/" },
  data: {
    identity,
    messageset: PREGNANCY,
    schedule: SCHEDULE,
    lang: "eng_ZA",
    next_sequence_number: 1,
    ...extra,
  },
});

describe("one active subscription per identity and message set", () => {
  it("answers a repeated create with the existing subscription, unchanged, on every create path", async ({
    svc,
    capture,
  }) => {
    const identity = newIdentity();
    const first = await subscribe(svc, { identity, messageset: PREGNANCY, schedule: SCHEDULE });
    // The retry differs (another language and position): the existing one answers, as it is.
    const again = await subscribe(
      svc,
      { identity, messageset: PREGNANCY, schedule: SCHEDULE, next_sequence_number: 2, lang: "zul_ZA" },
      200,
    );
    expect(again).toEqual(first);
    // Seed's hub webhook, without an id (what a hub's retry sends): Seed's 201 {accepted}, with the same id.
    const hub = await api(svc, "POST", "/api/v1/subscriptions/request", hubRequest(identity));
    expect(hub.statusCode).toBe(201);
    expect(hub.json()).toEqual({ accepted: true, id: first.id });
    // With a hub id never seen: the identity's active subscription still answers.
    const withId = await api(svc, "POST", "/api/v1/subscriptions/request", {
      ...hubRequest(identity, { id: "hub-registration-7" }),
    });
    expect(withId.json()).toEqual({ accepted: true, id: first.id });
    const rows = await rowsOf(svc, identity, PREGNANCY);
    expect(rows.map((r) => [r.id, r.lang, r.nextSequenceNumber])).toEqual([[first.id, "eng_ZA", 1]]);
    expect(await subscriptionEventsAfterAMoment(capture, "subscription.created", identity)).toHaveLength(1);
  });

  it("makes one subscription of 10 concurrent identical requests, and every answer carries its id", async ({
    svc,
  }) => {
    const identity = newIdentity();
    const body = { identity, messageset: PREGNANCY, schedule: SCHEDULE, lang: "eng_ZA" };
    const answers = await Promise.all([
      ...Array.from({ length: 7 }, () => api(svc, "POST", "/api/v1/subscriptions/", body)),
      ...Array.from({ length: 3 }, () =>
        api(svc, "POST", "/api/v1/subscriptions/request", hubRequest(identity)),
      ),
    ]);
    const rows = await rowsOf(svc, identity, PREGNANCY);
    expect(rows).toHaveLength(1);
    expect(answers.map((a) => a.json().id)).toEqual(Array(10).fill(rows[0]?.id));
    const statuses = answers.slice(0, 7).map((a) => a.statusCode);
    expect(statuses.filter((s) => s === 201).length + statuses.filter((s) => s === 200).length).toBe(7);
    expect(answers.slice(7).every((a) => a.statusCode === 201 && a.json().accepted === true)).toBe(true);
  });

  it("lets an inactive or completed subscription be followed by a new one; PATCH cannot make a second active one", async ({
    svc,
  }) => {
    const identity = newIdentity();
    const stopped = await subscribe(svc, { identity, messageset: PREGNANCY, schedule: SCHEDULE });
    expect(
      (await api(svc, "PATCH", `/api/v1/subscriptions/${stopped.id}/`, { active: false })).statusCode,
    ).toBe(200);
    const done = await subscribe(svc, {
      identity,
      messageset: PREGNANCY,
      schedule: SCHEDULE,
      active: false,
      completed: true,
      process_status: 2,
    });
    const current = await subscribe(svc, { identity, messageset: PREGNANCY, schedule: SCHEDULE }, 201);
    expect(new Set([stopped.id, done.id, current.id]).size).toBe(3);
    const other = await subscribe(svc, { identity, messageset: BABY, schedule: SCHEDULE }, 201);

    const reactivate = await api(svc, "PATCH", `/api/v1/subscriptions/${stopped.id}/`, { active: true });
    expect(reactivate.statusCode).toBe(409);
    expect(reactivate.json().error).toMatchObject({
      code: "SUBSCRIPTION_ALREADY_ACTIVE",
      details: { subscription: current.id },
    });
    const move = await api(svc, "PATCH", `/api/v1/subscriptions/${other.id}/`, { messageset: PREGNANCY });
    expect(move.json().error).toMatchObject({
      code: "SUBSCRIPTION_ALREADY_ACTIVE",
      details: { subscription: current.id },
    });
    const active = (await rowsOf(svc, identity, PREGNANCY)).filter((r) => r.active);
    expect(active.map((r) => r.id)).toEqual([current.id]);
    expect((await svc.db.subscription.findUniqueOrThrow({ where: { id: other.id } })).messagesetId).toBe(
      BABY,
    );
  });

  it("rolls over to next_set only when the identity is not already on it", async ({ svc, capture }) => {
    const identity = newIdentity();
    const ending = await subscribe(svc, { identity, messageset: SHORT, schedule: SCHEDULE });
    const baby = await subscribe(svc, {
      identity,
      messageset: BABY,
      schedule: SCHEDULE,
      next_sequence_number: 2,
    });
    await sendNextNow(svc, ending);
    await waitFor(
      async () => (await svc.db.subscription.findUniqueOrThrow({ where: { id: ending.id } })).completed,
      {
        what: "completion",
      },
    );
    const onBaby = await rowsOf(svc, identity, BABY);
    expect(onBaby.map((r) => [r.id, r.active, r.nextSequenceNumber])).toEqual([[baby.id, true, 2]]);
    // Both subscriptions announced (the send-next is published straight to the broker, so it may overtake the
    // outbox's announcements), and no third one: the rollover made none.
    await waitFor(() => subscriptionEvents(capture, "subscription.created", identity).length >= 2, {
      what: "both subscriptions announced",
    });
    expect(await subscriptionEventsAfterAMoment(capture, "subscription.created", identity)).toHaveLength(2);
  });
});

describe("the migration", () => {
  it("keeps the oldest of duplicate active subscriptions and deactivates the others, marked duplicate_of", async ({
    svc,
  }) => {
    const sql = await readFile(
      new URL(
        "../prisma/migrations/20261205033000_one_active_subscription_per_set/migration.sql",
        import.meta.url,
      ),
      "utf8",
    );
    // The state before the migration: no index, duplicates made as a hub retry made them.
    await svc.db.$executeRawUnsafe(`DROP INDEX "subscription_one_active_per_set_key"`);
    const identity = newIdentity();
    const insert = (id: string, createdAt: string, active = true) =>
      svc.db.subscription.create({
        data: {
          id,
          identity,
          messagesetId: PREGNANCY,
          scheduleId: SCHEDULE,
          lang: "eng_ZA",
          active,
          createdAt: new Date(createdAt),
          metadata: id.endsWith("3") ? { from: "hub" } : undefined,
        },
      });
    await insert("0e000000-0000-4000-8000-000000000002", "2026-01-02T00:00:00Z");
    await insert("0e000000-0000-4000-8000-000000000001", "2026-01-01T00:00:00Z");
    await insert("0e000000-0000-4000-8000-000000000003", "2026-01-03T00:00:00Z");
    await insert("0e000000-0000-4000-8000-000000000004", "2025-12-01T00:00:00Z", false);
    for (const statement of sql.split(/;\s*$/m).filter((s) => s.replace(/--.*$/gm, "").trim())) {
      await svc.db.$executeRawUnsafe(statement);
    }
    const rows = await svc.db.subscription.findMany({ where: { identity }, orderBy: { id: "asc" } });
    const kept = "0e000000-0000-4000-8000-000000000001";
    expect(rows.map((r) => [r.id.slice(-1), r.active, r.metadata])).toEqual([
      ["1", true, {}],
      ["2", false, { duplicate_of: kept }],
      ["3", false, { from: "hub", duplicate_of: kept }],
      ["4", false, {}],
    ]);
    // And the index is back: a second active one is refused.
    await expect(
      api(svc, "PATCH", `/api/v1/subscriptions/${rows[1]?.id}/`, { active: true }),
    ).resolves.toMatchObject({ statusCode: 409 });
  });
});
