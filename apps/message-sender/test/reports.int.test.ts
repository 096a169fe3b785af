import { randomUUID } from "node:crypto";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { adminAuth, expectError, startTestService, userAuth } from "@tidings/testing";
import { describe, expect } from "vitest";
import type { OutboundStatus } from "../src/generated/prisma/client.ts";
import { messageSenderService } from "../src/service.ts";
import { msisdn } from "./helpers.ts";
import { archivingTest, call, type Svc } from "./support.ts";

// The API alone, over outbounds stored on chosen days.
const { it, archiveDir } = archivingTest("tidings-archive-");

const DAY_MS = 86_400_000;
/** A UTC day `n` days ago, as YYYY-MM-DD. */
const daysAgo = (n: number) => new Date(Date.now() - n * DAY_MS).toISOString().slice(0, 10);

interface Seed {
  day: string;
  status: OutboundStatus;
  channel?: string;
  attempts?: number;
  toIdentity?: string;
  hour?: number;
}

async function seed(svc: Svc, rows: Seed[]): Promise<string[]> {
  const data = rows.map((r) => ({
    id: randomUUID(),
    toAddr: r.status === "delivered" || r.status === "failed" ? "" : msisdn(),
    toIdentity: r.toIdentity ?? null,
    content: "Hello",
    channel: r.channel ?? "LOG",
    status: r.status,
    delivered: r.status === "delivered",
    attempts: r.attempts ?? (r.status === "queued" ? 0 : 1),
    createdAt: new Date(`${r.day}T${String(r.hour ?? 10).padStart(2, "0")}:00:00Z`),
  }));
  await svc.db.outbound.createMany({ data });
  return data.map((d) => d.id);
}

describe("GET /api/v1/outbound/status_counts/", () => {
  it("counts outbounds per UTC day and status in the range", async ({ svc }) => {
    const [d1, d2, d3] = [daysAgo(300), daysAgo(299), daysAgo(298)];
    await seed(svc, [
      { day: d1, status: "delivered" },
      { day: d1, status: "delivered", hour: 23 },
      { day: d1, status: "failed" },
      { day: d2, status: "queued", hour: 0 },
      { day: d3, status: "delivered" },
    ]);
    const res = await call(svc, "GET", `/api/v1/outbound/status_counts/?from=${d1}&to=${d2}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([
      { date: d1, status: "delivered", count: 2 },
      { date: d1, status: "failed", count: 1 },
      { date: d2, status: "queued", count: 1 },
    ]);
    const reversed = await call(svc, "GET", `/api/v1/outbound/status_counts/?from=${d2}&to=${d1}`);
    expect(reversed.statusCode).toBe(400);
    expect((await call(svc, "GET", "/api/v1/outbound/status_counts/?from=yesterday")).statusCode).toBe(400);
    // Year 0000 is a date to the format, not to Postgres: refused before it reaches the database.
    const yearZero = await call(svc, "GET", "/api/v1/outbound/status_counts/?from=0000-01-01&to=0000-01-02");
    expect(yearZero.statusCode).toBe(400);
    expect(yearZero.json().error).toMatchObject({
      code: "VALIDATION_FAILED",
      details: [
        { field: "querystring.from", message: expect.any(String) },
        { field: "querystring.to", message: expect.any(String) },
      ],
    });
  });
});

describe("GET /api/v1/outbound/channel_status_counts/", () => {
  it("counts outbounds per UTC day, channel and status in the range", async ({ svc }) => {
    const [d0, d1, d2, d3] = [daysAgo(251), daysAgo(250), daysAgo(249), daysAgo(248)];
    await seed(svc, [
      { day: d0, status: "delivered", hour: 23 },
      { day: d1, status: "delivered", hour: 0 },
      { day: d1, status: "delivered", channel: "SMS" },
      { day: d1, status: "delivered", channel: "SMS", hour: 23 },
      { day: d1, status: "failed", channel: "SMS" },
      { day: d2, status: "queued" },
      { day: d2, status: "failed", channel: "WA" },
      { day: d3, status: "delivered", hour: 0 },
    ]);
    const counts = (from: string, to: string) =>
      call(svc, "GET", `/api/v1/outbound/channel_status_counts/?from=${from}&to=${to}`);
    const res = await counts(d1, d2);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([
      { date: d1, channel: "LOG", status: "delivered", count: 1 },
      { date: d1, channel: "SMS", status: "delivered", count: 2 },
      { date: d1, channel: "SMS", status: "failed", count: 1 },
      { date: d2, channel: "LOG", status: "queued", count: 1 },
      { date: d2, channel: "WA", status: "failed", count: 1 },
    ]);
    // The same totals per day and status as the status counts.
    const perStatus = (await call(svc, "GET", `/api/v1/outbound/status_counts/?from=${d1}&to=${d2}`)).json();
    expect(perStatus).toEqual([
      { date: d1, status: "delivered", count: 3 },
      { date: d1, status: "failed", count: 1 },
      { date: d2, status: "failed", count: 1 },
      { date: d2, status: "queued", count: 1 },
    ]);
    const reversed = await counts(d2, d1);
    expect(reversed.statusCode).toBe(400);
    expect(reversed.json().error).toMatchObject({ code: "VALIDATION_FAILED" });
    expect((await counts(daysAgo(700), d1)).statusCode).toBe(400);
    expect((await call(svc, "GET", "/api/v1/outbound/channel_status_counts/?to=soon")).statusCode).toBe(400);
  });
});

describe("POST /api/v1/aggregate-outbounds/", () => {
  it("replaces each day's aggregates per (delivered, channel) with counts and attempt sums", async ({
    svc,
  }) => {
    const [d1, d2] = [daysAgo(200), daysAgo(199)];
    await seed(svc, [
      { day: d1, status: "delivered", attempts: 1 },
      { day: d1, status: "delivered", attempts: 2 },
      { day: d1, status: "failed", attempts: 3 },
      { day: d1, status: "delivered", channel: "SMS", attempts: 1 },
      { day: d2, status: "queued" },
    ]);
    const aggregate = () => call(svc, "POST", "/api/v1/aggregate-outbounds/", { start: d1, end: d2 });
    const res = await aggregate();
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ aggregate_outbounds: true });
    const rows = async () =>
      (
        await svc.db.aggregateOutbound.findMany({
          where: { date: { gte: new Date(d1), lte: new Date(d2) } },
          orderBy: [{ date: "asc" }, { channel: "asc" }, { delivered: "asc" }],
        })
      ).map((r) => ({ ...r, date: r.date.toISOString().slice(0, 10) }));
    const expected = [
      { date: d1, delivered: false, channel: "LOG", attempts: 3, total: 1 },
      { date: d1, delivered: true, channel: "LOG", attempts: 3, total: 2 },
      { date: d1, delivered: true, channel: "SMS", attempts: 1, total: 1 },
      { date: d2, delivered: false, channel: "LOG", attempts: 0, total: 1 },
    ];
    expect(await rows()).toEqual(expected);
    // Run again: the same result. A change is picked up.
    expect((await aggregate()).statusCode).toBe(202);
    expect(await rows()).toEqual(expected);
    await seed(svc, [{ day: d2, status: "queued" }]);
    await aggregate();
    expect((await rows()).at(-1)).toMatchObject({ date: d2, total: 2 });
  });
});

describe("POST /api/v1/archive-outbounds/", () => {
  it("writes each day's final outbounds as gzipped NDJSON, purges exactly them, and is idempotent", async ({
    svc,
  }) => {
    const [d1, d2, d3] = [daysAgo(100), daysAgo(99), daysAgo(98)];
    const [delivered1, failed1, queued1] = (await seed(svc, [
      { day: d1, status: "delivered" },
      { day: d1, status: "failed", hour: 23 },
      { day: d1, status: "queued" },
    ])) as [string, string, string];
    const [queued2, delivered3] = (await seed(svc, [
      { day: d2, status: "submitted" },
      { day: d3, status: "delivered" },
    ])) as [string, string];
    await call(svc, "POST", "/api/v1/aggregate-outbounds/", { start: d1, end: d3 });
    // delivered1 was sent twice: its history, and the late report of its first attempt.
    const at = (minute: number) => `${d1}T10:${String(minute).padStart(2, "0")}:00.000Z`;
    await svc.db.outbound.update({
      where: { id: delivered1 },
      data: {
        history: [
          {
            at: at(1),
            status: "submitted",
            channel: "LOG",
            provider_id: "first",
            worker: "w1",
            reason: null,
          },
          {
            at: at(2),
            status: "queued",
            channel: "LOG",
            provider_id: "first",
            worker: "w1",
            reason: "timeout",
          },
          {
            at: at(3),
            status: "submitted",
            channel: "LOG",
            provider_id: "second",
            worker: "w2",
            reason: null,
          },
          {
            at: at(5),
            status: "delivered",
            channel: "LOG",
            provider_id: "second",
            worker: null,
            reason: null,
          },
        ],
        pastAttempts: {
          create: {
            channel: "LOG",
            providerId: "first",
            lateStatus: "failed",
            lateReason: "expired",
            lateAt: new Date(at(4)),
          },
        },
      },
    });
    const history = (await call(svc, "GET", `/api/v1/outbound/${delivered1}/history/`)).json().history;
    expect(history.map((h: { status: string }) => h.status)).toEqual([
      "submitted",
      "queued",
      "submitted",
      "failed",
      "delivered",
    ]);

    const res = await call(svc, "POST", "/api/v1/archive-outbounds/", { start: d1, end: d3 });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ archived_outbounds: true, days: [d1, d3] });

    const file = join(archiveDir, `outbounds-${d1}.gz`);
    const lines = gunzipSync(await readFile(file))
      .toString("utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual([delivered1, failed1]);
    expect(lines[0]).toMatchObject({ id: delivered1, status: "delivered", channel: "LOG", content: "Hello" });
    // With the history the API answered: the archive is all that is left of an outbound once it is deleted.
    expect(lines[0].history).toEqual(history);
    expect(lines[1].history).toEqual([]);
    // Exactly the rows written are gone; those still on their way stay (a day with none final is skipped).
    const left = await svc.db.outbound.findMany({
      where: { id: { in: [delivered1, failed1, queued1, queued2, delivered3] } },
      orderBy: { createdAt: "asc" },
    });
    expect(left.map((o) => o.id)).toEqual([queued1, queued2]);
    expect(await readdir(archiveDir)).toEqual([
      ".tidings-archive",
      `outbounds-${d1}.gz`,
      `outbounds-${d3}.gz`,
    ]);
    expect(
      (await svc.db.archivedOutbounds.findMany({ orderBy: { date: "asc" } })).map((a) => [
        a.date.toISOString().slice(0, 10),
        a.archive,
        a.count,
      ]),
    ).toEqual([
      [d1, `outbounds-${d1}.gz`, 2],
      [d3, `outbounds-${d3}.gz`, 1],
    ]);

    // Twice: nothing more is written or purged, even for rows that became final since.
    await svc.db.outbound.update({ where: { id: queued1 }, data: { status: "delivered", delivered: true } });
    const written = (await stat(file)).mtimeMs;
    const again = await call(svc, "POST", "/api/v1/archive-outbounds/", { start: d1, end: d3 });
    expect(again.json()).toEqual({ archived_outbounds: true, days: [] });
    expect((await stat(file)).mtimeMs).toBe(written);
    expect(await svc.db.outbound.count({ where: { id: queued1 } })).toBe(1);

    // Aggregating again keeps the archived days' aggregates.
    await call(svc, "POST", "/api/v1/aggregate-outbounds/", { start: d1, end: d3 });
    expect(await svc.db.aggregateOutbound.count({ where: { date: new Date(d1) } })).toBe(2);
  });

  it("purges nothing when the archive cannot be written", async () => {
    const blocked = join(archiveDir, "not-a-directory");
    await writeFile(blocked, "");
    const api = await startTestService(messageSenderService, { env: { ARCHIVE_DIR: join(blocked, "sub") } });
    try {
      const day = daysAgo(50);
      const own = randomUUID();
      await api.db.outbound.create({
        data: {
          id: own,
          content: "Hello",
          status: "delivered",
          delivered: true,
          createdAt: new Date(`${day}T10:00:00Z`),
        },
      });
      const res = await api.app.inject({
        method: "POST",
        url: "/api/v1/archive-outbounds/",
        headers: adminAuth,
        payload: { start: day, end: day },
      });
      expect(res.statusCode).toBe(500);
      expect(await api.db.outbound.count({ where: { id: own } })).toBe(1);
      expect(await api.db.archivedOutbounds.count()).toBe(0);
    } finally {
      await api.close();
    }
  });

  it("keeps an archived day's status counts and aggregates, beside its outbounds still on their way", async ({
    svc,
  }) => {
    const day = daysAgo(95);
    const [, , , queued] = (await seed(svc, [
      { day, status: "delivered" },
      { day, status: "delivered", channel: "EMAIL" },
      { day, status: "failed", attempts: 3 },
      { day, status: "queued" },
    ])) as [string, string, string, string];
    const counts = async () => ({
      byStatus: (await call(svc, "GET", `/api/v1/outbound/status_counts/?from=${day}&to=${day}`)).json(),
      byChannel: (
        await call(svc, "GET", `/api/v1/outbound/channel_status_counts/?from=${day}&to=${day}`)
      ).json(),
    });
    const before = await counts();
    expect(before.byStatus).toEqual([
      { date: day, status: "delivered", count: 2 },
      { date: day, status: "failed", count: 1 },
      { date: day, status: "queued", count: 1 },
    ]);
    // Never aggregated before: archiving aggregates the day first.
    expect(await svc.db.aggregateOutbound.count({ where: { date: new Date(day) } })).toBe(0);
    const res = await call(svc, "POST", "/api/v1/archive-outbounds/", { start: day, end: day });
    expect(res.json().days).toEqual([day]);
    expect(
      await svc.db.outbound.count({
        where: { createdAt: { gte: new Date(day), lt: new Date(daysAgo(94)) } },
      }),
    ).toBe(1);
    // The overview of that day reads the same as before.
    expect(await counts()).toEqual(before);
    expect(
      await svc.db.aggregateOutbound.findMany({
        where: { date: new Date(day) },
        orderBy: [{ delivered: "asc" }, { channel: "asc" }],
        select: { delivered: true, channel: true, total: true, attempts: true },
      }),
    ).toEqual([
      { delivered: false, channel: "LOG", total: 2, attempts: 3 },
      { delivered: true, channel: "EMAIL", total: 1, attempts: 1 },
      { delivered: true, channel: "LOG", total: 1, attempts: 1 },
    ]);
    // The send still on its way is counted once, as it is now.
    await svc.db.outbound.update({ where: { id: queued }, data: { status: "delivered", delivered: true } });
    expect((await counts()).byStatus).toEqual([
      { date: day, status: "delivered", count: 3 },
      { date: day, status: "failed", count: 1 },
    ]);
  });

  it("is an admin's: another key's archiving is 403 and moves nothing", async ({ svc }) => {
    const [id] = (await seed(svc, [{ day: daysAgo(90), status: "delivered" }])) as [string];
    // Every user's outbounds of those days would leave the API (their history, their resends).
    const res = await svc.app.inject({
      method: "POST",
      url: "/api/v1/archive-outbounds/",
      headers: await userAuth(svc.app, "archivist@example.org"),
      payload: { start: daysAgo(90), end: daysAgo(90) },
    });
    expectError(res, 403, "FORBIDDEN");
    expect(await svc.db.outbound.count({ where: { id } })).toBe(1);
  });

  it("refuses days not over yet, a reversed range, and archiving without ARCHIVE_DIR", async ({ svc }) => {
    const today = new Date().toISOString().slice(0, 10);
    const notOver = await call(svc, "POST", "/api/v1/archive-outbounds/", { start: daysAgo(1), end: today });
    expect(notOver.statusCode).toBe(400);
    expect(notOver.json().error.details).toEqual([
      { field: "body.end", message: "must be before today (UTC)" },
    ]);
    expect(
      (await call(svc, "POST", "/api/v1/archive-outbounds/", { start: daysAgo(2), end: daysAgo(3) }))
        .statusCode,
    ).toBe(400);
    expect((await call(svc, "POST", "/api/v1/archive-outbounds/", { start: daysAgo(2) })).statusCode).toBe(
      400,
    );
    const api = await startTestService(messageSenderService);
    try {
      const res = await api.app.inject({
        method: "POST",
        url: "/api/v1/archive-outbounds/",
        headers: adminAuth,
        payload: { start: daysAgo(3), end: daysAgo(2) },
      });
      expectError(res, 409, "MESSAGE_SENDER_ARCHIVE_NOT_CONFIGURED");
    } finally {
      await api.close();
    }
  });
});

describe("searching by identity and date", () => {
  it("filters outbounds by to_identity and created_at, and inbounds by from_identity and created_at", async ({
    svc,
  }) => {
    const identity = randomUUID();
    const [d1, d2] = [daysAgo(20), daysAgo(10)];
    const [early, late] = await seed(svc, [
      { day: d1, status: "delivered", toIdentity: identity },
      { day: d2, status: "delivered", toIdentity: identity },
      { day: d2, status: "delivered" },
    ]);
    const outbounds = await call(
      svc,
      "GET",
      `/api/v1/outbound/?to_identity=${identity}&after=${daysAgo(15)}T00:00:00Z`,
    );
    expect(outbounds.json().results.map((o: { id: string }) => o.id)).toEqual([late]);
    const before = await call(
      svc,
      "GET",
      `/api/v1/outbound/?to_identity=${identity}&before=${daysAgo(15)}T00:00:00Z`,
    );
    expect(before.json().results.map((o: { id: string }) => o.id)).toEqual([early]);

    const inbound = (day: string) => ({
      id: randomUUID(),
      channel: "LOG",
      fromIdentity: identity,
      content: "Hi",
      createdAt: new Date(`${day}T10:00:00Z`),
    });
    const [in1, in2] = [inbound(d1), inbound(d2)];
    await svc.db.inbound.createMany({ data: [in1, in2, { ...inbound(d2), fromIdentity: randomUUID() }] });
    const inbounds = await call(
      svc,
      "GET",
      `/api/v1/inbound/?from_identity=${identity}&after=${daysAgo(15)}T00:00:00Z&before=${daysAgo(5)}T00:00:00Z`,
    );
    expect(inbounds.json().results.map((i: { id: string }) => i.id)).toEqual([in2.id]);
    const all = await call(svc, "GET", `/api/v1/inbound/?from_identity=${identity}`);
    expect(all.json().count).toBe(2);
    expect(in1.id).not.toBe(in2.id);
  });
});
