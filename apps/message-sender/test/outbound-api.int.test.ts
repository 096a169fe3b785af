import { randomUUID } from "node:crypto";
import { OUTBOX_MESSAGES } from "@tidings/amqp";
import { prismaClientOptions, servicePool, withStatements } from "@tidings/db";
import { adminAuth, expectError, serviceTest } from "@tidings/testing";
import type pg from "pg";
import { describe, expect, onTestFinished } from "vitest";
import { type Outbound as OutboundRow, PrismaClient } from "../src/generated/prisma/client.ts";
import { OutboundWriter } from "../src/intake/outbound-writer.ts";
import { toSendCommand } from "../src/outbound/mapping.ts";
import { messageSenderService } from "../src/service.ts";
import { msisdn } from "./helpers.ts";
import type { Svc } from "./support.ts";

// The API alone (no worker): outbounds stay queued, and their outbound.send waits in the outbox.

// Five outbounds for the listing tests, one second apart (identity1's delivered by hand).
const [identity0, identity1, identity2] = [randomUUID(), randomUUID(), randomUUID()];
const [addr0, addr1] = [msisdn(), msisdn()];

interface Listed {
  /** The listing tests' outbounds, stored before the file's first test. */
  created: { id: string; created_at: string }[];
  /** The id of the i-th of them. */
  id: (i: number) => string;
}

const it = serviceTest(messageSenderService).extend<Listed>({
  created: [
    async ({ svc }, use) => {
      const created: { id: string; created_at: string }[] = [];
      const id = (i: number) => created[i]!.id;
      const payloads = [
        { to_identity: identity0, metadata: {} },
        { to_identity: identity1, metadata: {} },
        { to_identity: identity2, metadata: {} },
        { to_addr: addr0, metadata: {} },
        { to_addr: addr1, to_identity: identity0, metadata: {} },
      ];
      // One second apart, so "newest first" and the inclusive before/after bounds are unambiguous.
      const base = Date.now() - 3600_000;
      for (const [i, payload] of payloads.entries()) {
        const row = await svc.db.outbound.update({
          where: { id: (await post(svc, payload)).json().id },
          data: { createdAt: new Date(base + i * 1000) },
        });
        created.push({ id: row.id, created_at: row.createdAt.toISOString() });
      }
      // Delivered by hand: there is no worker in this file.
      await svc.db.outbound.update({
        where: { id: id(1) },
        data: { status: "delivered", delivered: true, toAddr: "" },
      });
      await use(created);
    },
    { scope: "file", auto: true },
  ],
  id: [
    async ({ created }, use) => {
      await use((i) => created[i]!.id);
    },
    { scope: "file" },
  ],
});

const post = (svc: Svc, payload: Record<string, unknown>) =>
  svc.app.inject({ method: "POST", url: "/api/v1/outbound/", headers: adminAuth, payload });
const get = (svc: Svc, url: string) => svc.app.inject({ url, headers: adminAuth });

const counts = async (svc: Svc) => ({
  outbounds: await svc.db.outbound.count(),
  // Messages, not rows: a shared statement writes its messages as one grouped row.
  outbox:
    (await svc.db.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${OUTBOX_MESSAGES}`))[0]
      ?.n ?? -1,
});

describe("POST /api/v1/outbound/", () => {
  it("stores the outbound queued and enqueues its outbound.send, keyed by the outbound id", async ({
    svc,
  }) => {
    const to = msisdn();
    const res = await post(svc, {
      to_addr: to,
      content: "Hello",
      metadata: { template: { name: "welcome" } },
    });
    expect(res.statusCode).toBe(201);
    const outbound = res.json();
    expect(outbound).toEqual({
      url: `http://localhost:80/api/v1/outbound/${outbound.id}/`,
      id: expect.any(String),
      version: 1,
      to_addr: to,
      to_identity: null,
      content: "Hello",
      content_masked: false,
      delivered: false,
      attempts: 0,
      metadata: { template: { name: "welcome" } },
      channel: "LOG",
      resend: null,
      status: "queued",
      provider_id: null,
      vumi_message_id: null,
      last_error: null,
      test: false,
      batch: null,
      template: null,
      template_version: null,
      priority: "normal",
      sending_window: null,
      not_before: null,
      expires_at: null,
      created_at: expect.any(String),
      created_by: null,
      created_by_schedule: null,
      created_by_subscription: null,
      sequence_number: null,
      updated_at: expect.any(String),
      updated_by: null,
      redacted: false,
    });
    expect(res.headers.location).toBe(`/api/v1/outbound/${outbound.id}/`);
    const message = await svc.db.outboxMessage.findUniqueOrThrow({ where: { id: outbound.id } });
    expect(message.name).toBe("outbound.send");
    expect(message.payload).toEqual({
      id: outbound.id,
      to_addr: to,
      content: "Hello",
      channel: "LOG",
      metadata: { template: { name: "welcome" } },
    });
    expect((await get(svc, `/api/v1/outbound/${outbound.id}/`)).json()).toEqual(outbound);
  });

  it("accepts to_identity alone, with Seed's optional fields", async ({ svc }) => {
    const identity = randomUUID();
    const res = await post(svc, {
      to_identity: identity,
      metadata: {},
      resend: true,
      version: 2,
      to_addr: "",
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ to_identity: identity, to_addr: "", resend: true, version: 2 });
    const message = await svc.db.outboxMessage.findUniqueOrThrow({ where: { id: res.json().id } });
    expect(message.payload).toEqual({
      id: res.json().id,
      to_identity: identity,
      content: null,
      channel: "LOG",
      metadata: {},
      resend: true,
    });
  });

  it("stores sends accepted together in shared statements, each exactly as answered with its own outbound.send", async ({
    svc,
  }) => {
    const payloads = Array.from({ length: 60 }, (_, i) => ({
      to_addr: msisdn(),
      content: `Together ${i}`,
      metadata: { n: i },
      ...(i % 3 === 0 ? { priority: "high" } : {}),
      ...(i % 4 === 0 ? { not_before: "2030-01-01T09:00:00.000Z", version: 3 } : {}),
      ...(i % 5 === 0
        ? {
            sending_window: {
              start: "08:00",
              end: "20:00",
              timezone: "Africa/Johannesburg",
            },
          }
        : {}),
    }));
    const answers = await Promise.all(payloads.map((payload) => post(svc, payload)));
    expect(answers.map((res) => res.statusCode)).toEqual(payloads.map(() => 201));
    const sent = answers.map((res) => res.json());
    for (const outbound of sent) {
      expect((await get(svc, `/api/v1/outbound/${outbound.id}/`)).json()).toEqual(outbound);
      // Its own message, in the grouped outbox row of the statement that stored it.
      const [message] = await svc.db.$queryRawUnsafe<{ payload: unknown }[]>(
        `SELECT payload FROM ${OUTBOX_MESSAGES} WHERE id = $1::uuid AND name = 'outbound.send'`,
        outbound.id,
      );
      expect(message?.payload).toMatchObject({
        id: outbound.id,
        content: outbound.content,
        to_addr: outbound.to_addr,
      });
    }
    // Rows stored by one statement share its transaction id: far fewer statements than sends.
    const [row] = await svc.db.$queryRawUnsafe<{ statements: number }[]>(
      "SELECT count(DISTINCT xmin::text)::int AS statements FROM outbound WHERE id = ANY($1::uuid[])",
      sent.map((o) => o.id),
    );
    expect(row?.statements).toBeLessThanOrEqual(payloads.length / 3);
  });

  it("fails only the send at fault when a shared statement fails", async ({ svc }) => {
    // A constraint the database enforces and the API can't check first: the shared statement fails, and each
    // of its sends is then stored on its own.
    await svc.db.$executeRawUnsafe(
      "ALTER TABLE outbound ADD CONSTRAINT test_refuse CHECK (content IS DISTINCT FROM 'refuse me')",
    );
    try {
      const before = await counts(svc);
      const contents = Array.from({ length: 30 }, (_, i) => (i === 17 ? "refuse me" : `Fine ${i}`));
      const answers = await Promise.all(
        contents.map((content) => post(svc, { to_addr: msisdn(), content, metadata: {} })),
      );
      expect(answers.map((res) => res.statusCode)).toEqual(
        contents.map((c) => (c === "refuse me" ? 500 : 201)),
      );
      expect(await counts(svc)).toEqual({ outbounds: before.outbounds + 29, outbox: before.outbox + 29 });
    } finally {
      await svc.db.$executeRawUnsafe("ALTER TABLE outbound DROP CONSTRAINT test_refuse");
    }
  });

  describe("rejects bad input with 400 and stores nothing", () => {
    const seedMessage = "One of these fields must be populated: to_addr, to_identity";
    it.for<[string, Record<string, unknown>]>([
      ["neither address", { metadata: {} }],
      ["an empty to_addr and no to_identity", { to_addr: "", to_identity: null, metadata: {} }],
    ])("%s: Seed's message", async ([_, payload], { svc }) => {
      const before = await counts(svc);
      const res = await post(svc, payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ code: "VALIDATION_FAILED", message: seedMessage });
      expect(await counts(svc)).toEqual(before);
    });

    it.for<[string, Record<string, unknown>, string]>([
      ["a bad uuid", { to_identity: "not-a-uuid", metadata: {} }, "body.to_identity"],
      ["metadata missing", { to_addr: "+27820000000" }, "body.metadata"],
      ["metadata not an object", { to_addr: "+27820000000", metadata: "x" }, "body.metadata"],
      ["a to_addr too long", { to_addr: "1".repeat(501), metadata: {} }, "body.to_addr"],
    ])("%s names the field", async ([_, payload, field], { svc }) => {
      const before = await counts(svc);
      const res = await post(svc, payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({
        code: "VALIDATION_FAILED",
        details: expect.arrayContaining([{ field, message: expect.any(String) }]),
      });
      expect(await counts(svc)).toEqual(before);
    });

    it("an unknown channel", async ({ svc }) => {
      const before = await counts(svc);
      const res = await post(svc, { to_addr: "+27820000000", metadata: {}, channel: "WHATSAPP" });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({
        code: "MESSAGE_SENDER_UNKNOWN_CHANNEL",
        details: [{ field: "body.channel", message: "no such channel" }],
      });
      expect(await counts(svc)).toEqual(before);
    });
  });

  it("needs a token", async ({ svc }) => {
    const res = await svc.app.inject({ method: "POST", url: "/api/v1/outbound/", payload: { metadata: {} } });
    expect(res.statusCode).toBe(401);
  });
});

describe("GET /api/v1/outbound/", () => {
  const ids = async (svc: Svc, query: string) => {
    const res = await get(svc, `/api/v1/outbound/?${query}`);
    expect(res.statusCode).toBe(200);
    return res.json().results.map((o: { id: string }) => o.id);
  };

  it("filters on repeated to_identity and to_addr (newest first)", async ({ svc, id }) => {
    expect(await ids(svc, `to_identity=${identity0}`)).toEqual([id(4), id(0)]);
    expect(await ids(svc, `to_identity=${identity0}&to_identity=${identity2}`)).toEqual([
      id(4),
      id(2),
      id(0),
    ]);
    expect(await ids(svc, `to_addr=${encodeURIComponent(addr0)}`)).toEqual([id(3)]);
    expect(
      await ids(svc, `to_addr=${encodeURIComponent(addr0)}&to_addr=${encodeURIComponent(addr1)}`),
    ).toEqual([id(4), id(3)]);
  });

  it("filters on delivered, status and created_at (before/after, inclusive)", async ({
    svc,
    id,
    created,
  }) => {
    const mine = `to_identity=${identity0}&to_identity=${identity1}&to_identity=${identity2}`;
    expect(await ids(svc, `${mine}&delivered=true`)).toEqual([id(1)]);
    expect(await ids(svc, `${mine}&delivered=false`)).toEqual([id(4), id(2), id(0)]);
    expect(await ids(svc, `${mine}&status=delivered`)).toEqual([id(1)]);
    const at = encodeURIComponent(created[1]!.created_at);
    expect(await ids(svc, `${mine}&after=${at}`)).toEqual([id(4), id(2), id(1)]);
    expect(await ids(svc, `${mine}&before=${at}`)).toEqual([id(1), id(0)]);
  });

  it("rejects bad filters", async ({ svc }) => {
    for (const query of ["to_identity=nope", "status=sent", "before=yesterday", "limit=0"]) {
      const res = await get(svc, `/api/v1/outbound/?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe("VALIDATION_FAILED");
    }
  });

  it("pages with count, and next and previous links that keep their place while outbounds are added", async ({
    svc,
  }) => {
    const follow = async (link: string) =>
      (await get(svc, new URL(link).pathname + new URL(link).search)).json();
    const all = (await get(svc, "/api/v1/outbound/")).json();
    expect(all.count).toBe(await svc.db.outbound.count());
    const first = (await get(svc, "/api/v1/outbound/?limit=2")).json();
    expect(first).toMatchObject({ count: all.count, previous: null, results: all.results.slice(0, 2) });
    expect(first.next).toMatch(/\?limit=2&cursor=[\w-]+$/);
    // a message queued meanwhile is newer than every row listed: it shifts no page (offset=2 would repeat one)
    await post(svc, { to_addr: msisdn(), metadata: {} });
    const second = await follow(first.next);
    expect(second).toMatchObject({ count: all.count + 1, results: all.results.slice(2, 4) });
    expect((await follow(second.previous)).results).toEqual(all.results.slice(0, 2));
    expect((await follow(second.next)).results).toEqual(all.results.slice(4, 6));
    // oldest first (ordering=created_at) pages the other way
    const oldest = (await get(svc, "/api/v1/outbound/?ordering=created_at&limit=2")).json();
    const after = await follow(oldest.next);
    const ids = (page: { results: { id: string }[] }) => page.results.map((o) => o.id);
    expect([...ids(oldest), ...ids(after)]).toEqual(ids(all).reverse().slice(0, 4));
    expect(ids(await follow(after.previous))).toEqual(ids(oldest));
    // a client's own offset is still read (past the one queued since), and a cursor not issued here is refused
    expect((await get(svc, "/api/v1/outbound/?limit=2&offset=3")).json().results).toEqual(second.results);
    expectError(await get(svc, "/api/v1/outbound/?cursor=garbage"), 400, "INVALID_CURSOR");
  });
});

describe("GET /api/v1/outbound/:id/", () => {
  it("404s an unknown outbound in the error shape", async ({ svc }) => {
    const res = await get(svc, `/api/v1/outbound/${randomUUID()}/`);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: { code: "OUTBOUND_NOT_FOUND", message: expect.any(String), requestId: expect.any(String) },
      detail: "Not found.",
    });
  });

  it("404s an id that is not a uuid, as an unknown one (Seed's get_object_or_404)", async ({ svc }) => {
    const res = await get(svc, "/api/v1/outbound/123/");
    expectError(res, 404, "NOT_FOUND");
    expect(res.json().detail).toBe("Not found.");
  });
});

/** A new queued outbound to the log channel, as the API builds it. */
const outboundRow = (content: string): OutboundRow => {
  const now = new Date();
  return {
    id: randomUUID(),
    version: 1,
    toAddr: msisdn(),
    toIdentity: null,
    content,
    channel: "LOG",
    metadata: {},
    status: "queued",
    providerId: null,
    attempts: 0,
    attemptBase: 0,
    delivered: false,
    resend: null,
    lastError: null,
    claimedBy: null,
    claimedUntil: null,
    createdAt: now,
    createdBy: null,
    createdBySchedule: null,
    createdBySubscription: null,
    sequenceNumber: null,
    updatedAt: now,
    updatedBy: null,
    batchId: null,
    test: false,
    template: null,
    templateVersion: null,
    priority: "normal",
    sendingWindow: null,
    notBefore: null,
    expiresAt: null,
    sensitive: false,
    redactedAt: null,
    askedAt: null,
    history: [],
  };
};

/**
 * An OutboundWriter on the test's database whose pool shows `seen` each statement's values (after it ran) and
 * returns or throws what `seen` does with the result.
 */
function writerSeeing(svc: Svc, seen: (values: unknown[], result: unknown) => unknown): OutboundWriter {
  const pool = servicePool(svc.config.DATABASE_URL, 2);
  // statement() runs its statement on a client it takes from the pool: each client handed out sees them.
  const seeingClient = (client: pg.PoolClient) =>
    new Proxy(client, {
      get(target, prop) {
        if (prop === "query") {
          return async (query: string | { text: string; values: unknown[] }) =>
            typeof query === "string" ? target.query(query) : seen(query.values, await target.query(query));
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  const seeing = new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop !== "connect") {
        return Reflect.get(target, prop, receiver);
      }
      return async () => seeingClient(await target.connect());
    },
  });
  const db = withStatements(new PrismaClient(prismaClientOptions(pool)), seeing);
  onTestFinished(() => db.$disconnect());
  return new OutboundWriter(db);
}

/** The number of outbounds a store statement's values hold. */
const storedBy = (values: unknown[]) => JSON.parse(String(values[0])).length as number;

const store = (writer: OutboundWriter, rows: OutboundRow[]) =>
  Promise.all(
    rows.map((row) =>
      writer.store(row, { name: "outbound.send", payload: toSendCommand(row), messageId: row.id }),
    ),
  );

describe("OutboundWriter", () => {
  it("stores the sends accepted in the same turn in one statement", async ({ svc }) => {
    const statements: number[] = [];
    const writer = writerSeeing(svc, (values, result) => {
      statements.push(storedBy(values));
      return result;
    });
    const before = await counts(svc);
    await store(
      writer,
      Array.from({ length: 10 }, (_, i) => outboundRow(`Together ${i}`)),
    );
    // Not the first two alone (two statements may be in flight) and the other eight after them.
    expect(statements).toEqual([10]);
    expect(await counts(svc)).toEqual({ outbounds: before.outbounds + 10, outbox: before.outbox + 10 });
  });

  it("finds the sends of a shared statement stored when the statement committed and its answer was lost", async ({
    svc,
  }) => {
    // The real database, with the answer of the first shared statement lost after it committed (what a
    // connection that breaks at that moment does): its sends are retried one by one and found stored.
    let lost = 0;
    const writer = writerSeeing(svc, (values, result) => {
      if (lost === 0 && storedBy(values) > 1) {
        lost++;
        throw new Error("Connection terminated unexpectedly");
      }
      return result;
    });
    const before = await counts(svc);
    await store(
      writer,
      Array.from({ length: 10 }, (_, i) => outboundRow(`Lost answer ${i}`)),
    );
    expect(lost).toBe(1);
    expect(await counts(svc)).toEqual({ outbounds: before.outbounds + 10, outbox: before.outbox + 10 });
  });
});
