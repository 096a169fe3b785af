import { randomUUID } from "node:crypto";
import { describe, expect } from "vitest";
import { callWithKey, issueKey, msisdn } from "./helpers.ts";
import { archivingTest, call } from "./support.ts";

// The API alone: the batches listed with their counts (and what a test key sees of them), the days archived listed.
const { it } = archivingTest("tidings-archive-list-");

const recipients = (n: number) => Array.from({ length: n }, () => ({ to_addr: msisdn() }));

describe("GET /api/v1/outbound/batch/", () => {
  it("lists batches newest first with their outbounds by status, paginated; a test key sees only test batches", async ({
    svc,
  }) => {
    // Counted from what is there already: CI retries a test once, in the same database.
    const before = (await call(svc, "GET", "/api/v1/outbound/batch/")).json().count;
    const first = (
      await call(svc, "POST", "/api/v1/outbound/batch/", { content: "one", recipients: recipients(2) })
    ).json();
    const second = (
      await call(svc, "POST", "/api/v1/outbound/batch/", { content: "two", recipients: recipients(3) })
    ).json();
    const sent = await svc.db.outbound.findFirstOrThrow({ where: { batchId: second.id } });
    await svc.db.outbound.update({ where: { id: sent.id }, data: { status: "delivered" } });

    const page = (await call(svc, "GET", "/api/v1/outbound/batch/?limit=1")).json();
    expect(page.count).toBe(before + 2);
    expect(page.results).toEqual([
      expect.objectContaining({ id: second.id, total: 3, status_counts: { queued: 2, delivered: 1 } }),
    ]);
    expect(page.next).toContain("offset=1");
    const rest = (await call(svc, "GET", "/api/v1/outbound/batch/?limit=1&offset=1")).json();
    expect(rest.results).toEqual([
      expect.objectContaining({ id: first.id, total: 2, status_counts: { queued: 2 } }),
    ]);

    const testKey = await issueKey(svc, "test");
    const testBatch = (
      await callWithKey(svc, testKey, "POST", "/api/v1/outbound/batch/", {
        content: "t",
        recipients: recipients(1),
      })
    ).json();
    const seen = (await callWithKey(svc, testKey, "GET", "/api/v1/outbound/batch/")).json();
    expect(seen.results[0]).toMatchObject({ id: testBatch.id, test: true });
    expect(seen.results.every((b: { test: boolean }) => b.test)).toBe(true);
    expect((await call(svc, "GET", "/api/v1/outbound/batch/")).json().count).toBe(before + 3);
  });
});

describe("GET /api/v1/archive-outbounds/", () => {
  it("lists the days archived, newest first, with their file and count", async ({ svc }) => {
    const day = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
    // What is archived already (nothing, but in a retry of this test): a retry archives two other days.
    const before = (await call(svc, "GET", "/api/v1/archive-outbounds/")).json();
    const [older, newer] = [200 + 2 * before.count, 199 + 2 * before.count];
    await svc.db.outbound.createMany({
      data: [older, older, newer].map((n) => ({
        id: randomUUID(),
        toAddr: "",
        content: "old",
        channel: "LOG",
        status: "delivered" as const,
        delivered: true,
        attempts: 1,
        createdAt: new Date(`${day(n)}T10:00:00Z`),
      })),
    });
    const archived = await call(svc, "POST", "/api/v1/archive-outbounds/", {
      start: day(older + 1),
      end: day(newer),
    });
    expect(archived.json().days).toEqual([day(older), day(newer)]);

    const list = await call(svc, "GET", "/api/v1/archive-outbounds/");
    expect(list.statusCode).toBe(200);
    const { count, results } = list.json();
    expect(count).toBe(before.count + 2);
    const dates = results.map((r: { date: string }) => r.date);
    expect(dates).toEqual([...dates].sort().reverse());
    const ours = results.filter((r: { date: string }) => [day(older), day(newer)].includes(r.date));
    expect(ours).toMatchObject([
      { date: day(newer), archive: `outbounds-${day(newer)}.gz`, count: 1 },
      { date: day(older), archive: `outbounds-${day(older)}.gz`, count: 2 },
    ]);
    expect(Date.parse(ours[0].archived_at)).toBeGreaterThan(Date.now() - 60_000);
  });
});
