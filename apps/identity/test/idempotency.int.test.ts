import { adminAuth, expectError, serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { identityService } from "../src/service.ts";
import { msisdn, type Svc } from "./helpers.ts";

const it = serviceTest(identityService, { worker: true }, ["identity.created"]);

const createWithKey = (svc: Svc, key: string, body: unknown) =>
  svc.app.inject({
    method: "POST",
    url: "/api/v1/identities/",
    headers: { ...adminAuth, "idempotency-key": key },
    payload: body as object,
  });

describe("Idempotency-Key on POST /api/v1/identities/", () => {
  it("creates one identity (and one identity.created) however often, and concurrently, the request is sent", async ({
    svc,
    capture,
  }) => {
    const address = msisdn(77);
    const body = { details: { addresses: { msisdn: { [address]: { default: true } } } } };
    const responses = await Promise.all([1, 2, 3].map(() => createWithKey(svc, "hub-request-1", body)));
    const created = responses.filter((r) => r.statusCode === 201);
    // The one that ran, and any replays of it; the others found it still running.
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(responses.every((r) => r.statusCode === 201 || r.statusCode === 409)).toBe(true);
    const again = await createWithKey(svc, "hub-request-1", body);
    expect(again.statusCode).toBe(201);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    const id = again.json().id;
    for (const res of created) {
      expect(res.json().id).toBe(id);
    }
    const stored = await svc.db.identity.findMany({ where: { id }, select: { id: true } });
    expect(stored).toHaveLength(1);
    const all = await svc.db.$queryRawUnsafe<{ n: number }[]>(
      "SELECT count(*)::int AS n FROM identity WHERE details::text LIKE $1",
      `%${address}%`,
    );
    expect(all[0]?.n).toBe(1);
    await waitFor(() => capture.named<{ id: string }>("identity.created").some((m) => m.id === id), {
      timeoutMs: 30_000,
      what: "identity.created",
    });

    const other = await createWithKey(svc, "hub-request-1", {
      details: { addresses: { msisdn: { [msisdn(77)]: {} } } },
    });
    expectError(other, 422, "IDEMPOTENCY_KEY_REUSED");
    const count = await svc.db.$queryRawUnsafe<{ n: number }[]>("SELECT count(*)::int AS n FROM identity");
    expect(count[0]?.n).toBe(1);
    expect(capture.named<{ id: string }>("identity.created")).toHaveLength(1);
  });
});
