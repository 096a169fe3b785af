import { randomUUID } from "node:crypto";
import { adminAuth, expectError, serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { createMessageSenderService } from "../src/service.ts";
import { callWithKey, issueKey, msisdn } from "./helpers.ts";
import type { Svc } from "./support.ts";

// What each kind of key sees of outbounds, batches, inbounds and failed tasks, and sensitive content (verification
// codes, `sensitive: true`) masked in every answer and cleared once sent.
const keys = {} as Record<"live" | "team" | "test" | "team2", string>;

async function send(svc: Svc, key: string, payload: object): Promise<{ id: string }> {
  const res = await callWithKey(svc, key, "POST", "/api/v1/outbound/", { metadata: {}, ...payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const listed = async (svc: Svc, key: string, url: string) =>
  ((await callWithKey(svc, key, "GET", url)).json().results as { id: string }[]).map((r) => r.id).sort();

const delivered = (svc: Svc, id: string) =>
  waitFor(async () => (await svc.db.outbound.findUnique({ where: { id } }))?.status === "delivered", {
    what: `outbound ${id} delivered`,
    timeoutMs: 20_000,
  });

const to = msisdn();
const ids = {} as Record<"live" | "team" | "test" | "code" | "sensitive", string>;
const batches = {} as Record<"live" | "test", string>;
const inbounds = {} as Record<"toTest" | "toLive" | "none", string>;

/** The keys, sends, batches and inbounds the tests look at, made before the file's first test. */
const it = serviceTest(createMessageSenderService(), { worker: true }).extend<{ seeded: undefined }>({
  seeded: [
    async ({ svc }, use) => {
      keys.live = await issueKey(svc, "live");
      keys.test = await issueKey(svc, "test");
      keys.team = await issueKey(svc, "team", [to]);
      keys.team2 = await issueKey(svc, "team", [to]);
      ids.live = (await send(svc, keys.live, { to_addr: to, content: "live hello" })).id;
      ids.test = (await send(svc, keys.test, { to_addr: to, content: "test hello" })).id;
      ids.team = (await send(svc, keys.team, { to_addr: to, content: "team hello" })).id;
      // A live send marked sensitive, deferred for a day (still queued: its content is kept until it goes).
      ids.sensitive = (
        await send(svc, keys.live, {
          to_addr: to,
          content: "Your reset link is https://example.org/r/abc",
          sensitive: true,
          not_before: new Date(Date.now() + 86_400_000).toISOString(),
        })
      ).id;
      // Identity's verification code, as it sends it: an outbound.send the worker stores.
      ids.code = randomUUID();
      await svc.broker.publish(
        "outbound.send",
        {
          id: ids.code,
          to_addr: to,
          content: "Your verification code is 123456. It expires in 10 minutes.",
          metadata: { purpose: "verification", verification_id: randomUUID(), address_type: "msisdn" },
          priority: "high",
          sensitive: true,
        },
        { messageId: ids.code },
      );
      for (const kind of ["live", "test"] as const) {
        const res = await callWithKey(svc, keys[kind], "POST", "/api/v1/outbound/batch/", {
          content: `${kind} batch`,
          recipients: [{ to_addr: to }],
        });
        expect(res.statusCode, res.body).toBe(202);
        batches[kind] = res.json().id;
      }
      for (const [name, reply] of [
        ["toTest", ids.test],
        ["toLive", ids.live],
        ["none", null],
      ] as const) {
        const res = await callWithKey(svc, keys.live, "POST", "/api/v1/inbound/", {
          from_addr: to,
          content: "a reply",
          message_id: randomUUID(),
          ...(reply && { in_reply_to: reply }),
        });
        expect(res.statusCode, res.body).toBe(201);
        inbounds[name] = res.json().id;
      }
      await Promise.all([ids.live, ids.test, ids.team, ids.code].map((id) => delivered(svc, id)));
      await use(undefined);
    },
    { scope: "file", auto: true },
  ],
});

describe("what each kind of key sees", () => {
  it("a test key sees only test outbounds, their batch and the replies to them", async ({ svc }) => {
    const batchOutbound = await svc.db.outbound.findFirstOrThrow({ where: { batchId: batches.test } });
    expect(await listed(svc, keys.test, "/api/v1/outbound/?limit=100")).toEqual(
      [ids.test, batchOutbound.id].sort(),
    );
    for (const id of [ids.live, ids.code, ids.team]) {
      const res = await callWithKey(svc, keys.test, "GET", `/api/v1/outbound/${id}/`);
      expectError(res, 404, "OUTBOUND_NOT_FOUND");
    }
    expect((await callWithKey(svc, keys.test, "GET", `/api/v1/outbound/${ids.test}/`)).statusCode).toBe(200);
    expect(
      (await callWithKey(svc, keys.test, "GET", `/api/v1/outbound/batch/${batches.live}/`)).statusCode,
    ).toBe(404);
    expect(
      (await callWithKey(svc, keys.test, "GET", `/api/v1/outbound/batch/${batches.test}/`)).statusCode,
    ).toBe(200);
    expect(await listed(svc, keys.test, "/api/v1/inbound/")).toEqual([inbounds.toTest]);
    expect((await callWithKey(svc, keys.test, "GET", `/api/v1/inbound/${inbounds.toLive}/`)).statusCode).toBe(
      404,
    );
    expect((await callWithKey(svc, keys.test, "GET", `/api/v1/inbound/${inbounds.toTest}/`)).statusCode).toBe(
      200,
    );
  });

  it("a team key sees only the outbounds its user created; another team key none of them", async ({
    svc,
  }) => {
    expect(await listed(svc, keys.team, "/api/v1/outbound/")).toEqual([ids.team]);
    expect(await listed(svc, keys.team2, "/api/v1/outbound/")).toEqual([]);
    expect((await callWithKey(svc, keys.team2, "GET", `/api/v1/outbound/${ids.team}/`)).statusCode).toBe(404);
    expect((await callWithKey(svc, keys.team, "GET", `/api/v1/outbound/${ids.live}/`)).statusCode).toBe(404);
    expect(await listed(svc, keys.team, "/api/v1/inbound/")).toEqual([]);
  });

  it("live keys and the admin token see everything", async ({ svc }) => {
    const all = Object.values(ids).sort();
    for (const key of [keys.live, adminAuth.authorization.replace("Token ", "")]) {
      const seen = await listed(svc, key, "/api/v1/outbound/?limit=1000");
      expect(seen).toEqual(expect.arrayContaining(all));
      expect(await listed(svc, key, "/api/v1/inbound/")).toEqual(Object.values(inbounds).sort());
      expect((await callWithKey(svc, key, "GET", `/api/v1/outbound/batch/${batches.test}/`)).statusCode).toBe(
        200,
      );
    }
  });
});

describe("sensitive content", () => {
  it("is masked in every answer, and cleared from the database once the send is final", async ({ svc }) => {
    for (const id of [ids.code, ids.sensitive]) {
      const one = (await callWithKey(svc, keys.live, "GET", `/api/v1/outbound/${id}/`)).json();
      expect(one).toMatchObject({ id, content: null, content_masked: true });
      const list = (await callWithKey(svc, keys.live, "GET", "/api/v1/outbound/?limit=1000")).json().results;
      expect(list.find((o: { id: string }) => o.id === id)).toMatchObject({
        content: null,
        content_masked: true,
      });
    }
    const other = (await callWithKey(svc, keys.live, "GET", `/api/v1/outbound/${ids.live}/`)).json();
    expect(other).toMatchObject({ content: "live hello", content_masked: false });
    // The code was sent, then its content cleared; the deferred one keeps it until it goes.
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id: ids.code } })).toMatchObject({
      status: "delivered",
      sensitive: true,
      content: null,
    });
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id: ids.sensitive } })).toMatchObject({
      status: "queued",
      content: "Your reset link is https://example.org/r/abc",
    });
    const raw = (await callWithKey(svc, keys.live, "GET", "/api/v1/outbound/?limit=1000")).body;
    expect(raw).not.toContain("123456");
    expect(raw).not.toContain("/r/abc");
  });

  it("rejects a sensitive flag that is not a boolean with the one error shape, storing nothing", async ({
    svc,
  }) => {
    const before = await svc.db.outbound.count();
    const res = await callWithKey(svc, keys.live, "POST", "/api/v1/outbound/", {
      to_addr: to,
      content: "x",
      metadata: {},
      sensitive: "yes",
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: "VALIDATION_FAILED" });
    expect(await svc.db.outbound.count()).toBe(before);
  });
});
