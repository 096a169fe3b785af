import { readFileSync } from "node:fs";
import { type OutboundStatusChanged, toSeedTime } from "@tidings/contracts";
import { expectError, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import {
  call,
  deferredByWorker,
  helpdeskTest,
  type Svc,
  send,
  TEAM_ALLOWED,
  tomorrow,
  WORKER_ID,
} from "./helpdesk-fixtures.ts";
import { address, identityEvent, msisdn, outboundReaching } from "./helpers.ts";

// The helpdesk's tools on outbounds: the status history, the list filters, and DELETE (a redaction that keeps a
// tombstone and cancels a queued send).
const it = helpdeskTest(["outbound.failed", "outbound.delivery_report"]);

const history = async (svc: Svc, id: string, caller = "admin") =>
  call(svc, caller, "GET", `/api/v1/outbound/${id}/history/`);

/** The ids a list answers, in its order. */
const listed = async (svc: Svc, query: string) => {
  const res = await call(svc, "admin", "GET", `/api/v1/outbound/?${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().results as { id: string }[]).map((o) => o.id);
};

describe("GET /api/v1/outbound/{id}/history/", () => {
  it("lists a delivered outbound's changes in order, with channel, provider id and worker", async ({
    svc,
  }) => {
    const { id } = await send(svc, "admin", { to_addr: msisdn(), content: "Hello" });
    const row = await outboundReaching(svc.db, id, "delivered");
    const res = await history(svc, id);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toEqual({
      outbound: expect.stringMatching(new RegExp(`^https?://[^/]+/api/v1/outbound/${id}/$`)),
      id,
      status: "delivered",
      created_at: toSeedTime(row.createdAt),
      redacted_at: null,
      history: [
        {
          at: expect.any(String),
          status: "submitted",
          channel: "LOG",
          provider_id: row.providerId,
          worker: WORKER_ID,
          reason: null,
        },
        {
          at: expect.any(String),
          status: "delivered",
          channel: "LOG",
          provider_id: row.providerId,
          worker: null,
          reason: null,
        },
      ],
    });
    expect(row.providerId).toMatch(/^log-/);
    expect(Date.parse(body.history[0].at)).toBeLessThanOrEqual(Date.parse(body.history[1].at));
  });

  it("gives a failure's reason and the worker that failed it", async ({ svc }) => {
    const optedOut = identityEvent([address("msisdn", msisdn(), { default: true, optedout: true })]);
    await svc.broker.publish("identity.created", optedOut);
    await waitFor(
      async () => !!(await svc.db.addressBookEntry.findUnique({ where: { identity: optedOut.id } })),
      {
        what: "address book entry",
      },
    );
    const { id } = await send(svc, "admin", { to_identity: optedOut.id, content: "Hi" });
    const row = await outboundReaching(svc.db, id, "failed");
    const res = await history(svc, id);
    expect(res.json().history).toEqual([
      {
        at: expect.any(String),
        status: "failed",
        channel: "LOG",
        provider_id: null,
        worker: WORKER_ID,
        reason: row.lastError,
      },
    ]);
    expect(row.lastError).toBe("opted_out");
  });

  it("is 404 (the platform's not-found) for an unknown outbound and one the key does not see", async ({
    svc,
    keys,
  }) => {
    const unknown = await history(svc, "00000000-0000-4000-8000-000000000000");
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: "OUTBOUND_NOT_FOUND" }, detail: "Not found." });
    const { id } = await send(svc, keys.team, { to_addr: TEAM_ALLOWED.to_addr, content: "team" });
    expect((await history(svc, id, keys.team2)).statusCode).toBe(404);
    expect((await history(svc, id, keys.test)).statusCode).toBe(404);
    for (const caller of [keys.team, keys.live, "admin"]) {
      expect((await history(svc, id, caller)).statusCode).toBe(200);
    }
    expect((await call(svc, "admin", "GET", "/api/v1/outbound/nope/history/")).statusCode).toBe(400);
  });
});

describe("GET /api/v1/outbound/ filters", () => {
  it("filters by status (repeatable), channel, provider_id, attempts, created ranges, and orders", async ({
    svc,
  }) => {
    const channel = await call(svc, "admin", "POST", "/api/v1/channel/", {
      channel_id: "LOG2",
      channel_type: "log",
    });
    expect(channel.statusCode, channel.body).toBe(201);
    const since = new Date().toISOString();
    const sent = { to_addr: msisdn(), content: "filtered" };
    const a = (await send(svc, "admin", sent)).id;
    const b = (await send(svc, "admin", { ...sent, channel: "LOG2" })).id;
    const middle = new Date().toISOString();
    const c = (await send(svc, "admin", { ...sent, not_before: tomorrow() })).id;
    const d = (await send(svc, "admin", { ...sent, not_before: tomorrow() })).id;
    const [rowA] = await Promise.all([
      outboundReaching(svc.db, a, "delivered"),
      outboundReaching(svc.db, b, "delivered"),
    ]);
    await deferredByWorker(svc, d);
    expect((await call(svc, "admin", "DELETE", `/api/v1/outbound/${d}/`)).statusCode).toBe(204);
    const ours = `created_at__gte=${encodeURIComponent(since)}`;
    const sorted = (ids: string[]) => [...ids].sort();

    expect(sorted(await listed(svc, `${ours}&status=delivered&status=cancelled`))).toEqual(sorted([a, b, d]));
    expect(await listed(svc, `${ours}&status=queued`)).toEqual([c]);
    expect(await listed(svc, `${ours}&status=cancelled`)).toEqual([d]);
    expect(await listed(svc, `${ours}&channel=LOG2`)).toEqual([b]);
    expect(sorted(await listed(svc, `${ours}&channel=LOG&channel=LOG2`))).toEqual(sorted([a, b, c, d]));
    expect(await listed(svc, `provider_id=${rowA.providerId}`)).toEqual([a]);
    expect(await listed(svc, `vumi_message_id=${rowA.providerId}`)).toEqual([a]);
    expect(await listed(svc, "provider_id=log-none")).toEqual([]);
    expect(sorted(await listed(svc, `${ours}&attempts__gte=1`))).toEqual(sorted([a, b]));
    expect(sorted(await listed(svc, `${ours}&attempts__lte=0`))).toEqual(sorted([c, d]));
    expect(sorted(await listed(svc, `${ours}&attempts=1&channel=LOG`))).toEqual([a]);
    expect(await listed(svc, `${ours}&ordering=created_at`)).toEqual([a, b, c, d]);
    expect(await listed(svc, ours)).toEqual([d, c, b, a]);
    expect(await listed(svc, `after=${encodeURIComponent(middle)}&ordering=created_at`)).toEqual([c, d]);
    expect(await listed(svc, `${ours}&created_at__lt=${encodeURIComponent(middle)}`)).toEqual([b, a]);
    for (const bad of ["chanel=LOG", "status=sent", "attempts__gte=-1"]) {
      const res = await call(svc, "admin", "GET", `/api/v1/outbound/?${bad}`);
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().error.code).toBe("VALIDATION_FAILED");
    }
  });
});

describe("DELETE /api/v1/outbound/{id}/", () => {
  it("cancels and redacts a queued outbound of the key's own, which is then never sent", async ({
    svc,
    keys,
    capture,
    logFile,
  }) => {
    const content = `deferred ${Date.now()}`;
    const created = await svc.app.inject({
      method: "POST",
      url: "/api/v1/outbound/",
      headers: { authorization: `Token ${keys.team}`, "idempotency-key": `helpdesk-${Date.now()}` },
      payload: {
        to_addr: TEAM_ALLOWED.to_addr,
        content,
        metadata: { subscription: "s-1", messageset: 3 },
        not_before: new Date(Date.now() + 2000).toISOString(),
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json();
    const answers = () =>
      svc.db.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM tidings_idempotency_key WHERE strpos(response_body, ${id}) > 0`;
    expect((await answers())[0]?.n).toBe(1);
    await deferredByWorker(svc, id);

    expect((await call(svc, keys.team2, "DELETE", `/api/v1/outbound/${id}/`)).statusCode).toBe(404);
    const notOwner = await call(svc, keys.live, "DELETE", `/api/v1/outbound/${id}/`);
    expectError(notOwner, 403, "MESSAGE_SENDER_NOT_OUTBOUND_OWNER");
    const deleted = await call(svc, keys.team, "DELETE", `/api/v1/outbound/${id}/`);
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect(deleted.body).toBe("");

    const read = (await call(svc, keys.team, "GET", `/api/v1/outbound/${id}/`)).json();
    expect(read).toMatchObject({
      id,
      redacted: true,
      status: "cancelled",
      last_error: "redacted",
      to_addr: "",
      content: null,
      metadata: {},
      attempts: 0,
      delivered: false,
    });
    expect((await history(svc, id, keys.team)).json().history).toEqual([
      {
        at: expect.any(String),
        status: "cancelled",
        channel: "LOG",
        provider_id: null,
        worker: null,
        reason: "redacted",
      },
    ]);
    expect((await answers())[0]?.n).toBe(0);
    await waitFor(
      () =>
        capture
          .named<OutboundStatusChanged>("outbound.failed")
          .some((e) => e.id === id && e.status === "cancelled" && e.reason === "redacted"),
      { what: "outbound.failed (cancelled)" },
    );

    // Past its not_before (the due poller runs every 200 ms) and with a stale outbound.send: still not sent.
    await svc.broker.publish(
      "outbound.send",
      { id, to_addr: TEAM_ALLOWED.to_addr, content, channel: "LOG", metadata: {} },
      { messageId: `${id}-stale` },
    );
    await new Promise((r) => setTimeout(r, 3000));
    // A control message sent now reaches the log channel's file (so its absence below means something).
    const control = await send(svc, keys.team, {
      to_addr: TEAM_ALLOWED.to_addr,
      content: `control ${content}`,
    });
    await outboundReaching(svc.db, control.id, "delivered");
    const row = await svc.db.outbound.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ status: "cancelled", attempts: 0, providerId: null, content: null });
    const logged = (() => {
      try {
        return readFileSync(logFile, "utf8");
      } catch {
        return "";
      }
    })();
    expect(logged).toContain(`control ${content}`);
    expect(logged.replaceAll(`control ${content}`, "")).not.toContain(content);
    expect(
      capture.named<{ outbound_id: string }>("outbound.delivery_report").some((e) => e.outbound_id === id),
    ).toBe(false);
    // Idempotent.
    expect((await call(svc, keys.team, "DELETE", `/api/v1/outbound/${id}/`)).statusCode).toBe(204);
  });

  it("redacts a delivered outbound to a tombstone: status, counts and aggregates unchanged", async ({
    svc,
  }) => {
    const { id } = await send(svc, "admin", {
      to_addr: msisdn(),
      content: "Your results are ready",
      metadata: { topic: "t" },
    });
    const before = await outboundReaching(svc.db, id, "delivered");
    const day = before.createdAt.toISOString().slice(0, 10);
    const counts = async () =>
      (await call(svc, "admin", "GET", `/api/v1/outbound/status_counts/?from=${day}&to=${day}`)).json();
    const countsBefore = await counts();
    expect((await call(svc, "admin", "DELETE", `/api/v1/outbound/${id}/`)).statusCode).toBe(204);
    const after = await svc.db.outbound.findUniqueOrThrow({ where: { id } });
    expect(after).toMatchObject({
      status: "delivered",
      delivered: true,
      attempts: 1,
      providerId: before.providerId,
      channel: "LOG",
      content: null,
      metadata: {},
      toAddr: "",
    });
    expect(after.redactedAt).toBeInstanceOf(Date);
    expect((await history(svc, id)).json().redacted_at).toBe(toSeedTime(after.redactedAt));
    expect(await counts()).toEqual(countsBefore);
    expect((await history(svc, id)).json().history.map((h: { status: string }) => h.status)).toEqual([
      "submitted",
      "delivered",
    ]);
    const listedBack = (
      await call(svc, "admin", "GET", `/api/v1/outbound/?provider_id=${before.providerId}`)
    ).json();
    expect(listedBack.results).toEqual([expect.objectContaining({ id, redacted: true, content: null })]);
  });

  it("is 409 while a worker is sending the outbound, and 404 for an unknown one", async ({ svc }) => {
    const { id } = await send(svc, "admin", { to_addr: msisdn(), content: "held", not_before: tomorrow() });
    await deferredByWorker(svc, id);
    await svc.db.outbound.update({
      where: { id },
      data: { claimedBy: "another-worker", claimedUntil: new Date(Date.now() + 60_000) },
    });
    const busy = await call(svc, "admin", "DELETE", `/api/v1/outbound/${id}/`);
    expectError(busy, 409, "MESSAGE_SENDER_SEND_IN_PROGRESS");
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id } })).toMatchObject({
      status: "queued",
      content: "held",
      redactedAt: null,
    });
    const unknown = await call(
      svc,
      "admin",
      "DELETE",
      "/api/v1/outbound/00000000-0000-4000-8000-000000000000/",
    );
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: "OUTBOUND_NOT_FOUND" }, detail: "Not found." });
  });
});
