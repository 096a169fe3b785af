import { Broker } from "@tidings/amqp";
import { startServiceWorker } from "@tidings/service-kit";
import { AMQP_URL, serviceTest, TEST_ADMIN_TOKEN, testLogger, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { loadMessageSenderConfig } from "../src/config.ts";
import { createDb } from "../src/db.ts";
import { PermanentSendError } from "../src/outbound/channel.ts";
import { createMessageSenderService } from "../src/service.ts";
import { address, identityEvent, msisdn, waitForIdle } from "./helpers.ts";
import { call, outbound, type Svc, send } from "./support.ts";

// The per-person daily cap on the real broker and database, with the workers' clock under the test's control.

let now = new Date("2026-03-10T08:00:00.000Z"); // 17:00 in Tokyo (UTC+9, no daylight saving)
const service = createMessageSenderService({
  clock: () => now,
  // A provider that refuses every message: a send it rejects gives its place in the day's count back.
  channels: () => ({
    REJECTS: {
      send: async () => {
        throw new PermanentSendError("refused");
      },
    },
  }),
});
const ENV = { DAILY_CAP_PER_PERSON: "3", DUE_POLL_INTERVAL_MS: "100" };

/** Two more workers on the same database and queues as `svc`'s own (three in all), with their own WORKER_IDs. */
const it = serviceTest(service, { worker: true, env: ENV }).extend<{ moreWorkers: number }>({
  moreWorkers: [
    async ({ svc }, use) => {
      const started = await Promise.all(
        [1, 2].map(async (n) => {
          const config = loadMessageSenderConfig({
            MESSAGE_SENDER_DATABASE_URL: svc.config.DATABASE_URL,
            AMQP_URL,
            AMQP_NAMESPACE: svc.namespace,
            ADMIN_TOKEN: TEST_ADMIN_TOKEN,
            LOG_LEVEL: "silent",
            WORKER_ID: `competing-${n}`,
            ...ENV,
          });
          const logger = testLogger();
          const db = createDb(config.DATABASE_URL);
          const broker = await Broker.connect({
            url: AMQP_URL,
            namespace: svc.namespace,
            service: "message-sender",
            logger,
          });
          const stop = await startServiceWorker(service, { config, logger, db, broker });
          return async () => {
            await stop();
            await broker.close();
            await db.$disconnect();
          };
        }),
      );
      await use(started.length);
      await Promise.all(started.map((stop) => stop()));
    },
    { scope: "file" },
  ],
});

/** A person in Tokyo, in the address book. */
async function tokyoIdentity(svc: Svc): Promise<string> {
  const event = identityEvent([address("msisdn", msisdn(), { default: true })]);
  event.details = { ...event.details, timezone: "Asia/Tokyo" };
  await svc.broker.publish("identity.created", event);
  await waitFor(() => svc.db.addressBookEntry.findUnique({ where: { identity: event.id } }), {
    what: "the identity in the address book",
  });
  return event.id;
}

/** The outbounds' statuses (and not_before) once none of them is waiting to be taken. */
async function settled(svc: Svc, ids: string[]) {
  return waitFor(
    async () => {
      const rows = await Promise.all(ids.map((id) => outbound(svc, id)));
      const done = rows.every(
        (o) => o.status !== "queued" || (o.not_before !== null && Date.parse(o.not_before) > now.getTime()),
      );
      return done && rows;
    },
    { what: "the outbounds to be sent or deferred", timeoutMs: 30_000 },
  );
}

const count = async (svc: Svc, identity: string, day: string) =>
  (
    await svc.db.dailyCapCount.findUnique({
      where: { identity_day: { identity, day: new Date(`${day}T00:00:00.000Z`) } },
    })
  )?.sent ?? 0;

describe("the per-person daily cap", () => {
  it("validates a channel's daily_cap, and shows it", async ({ svc }) => {
    for (const daily_cap of [-1, 1.5, "2", 10_001]) {
      const res = await call(svc, "POST", "/api/v1/channel/", {
        channel_id: "BAD_CAP",
        channel_type: "log",
        daily_cap,
      });
      expect(res.statusCode, JSON.stringify(daily_cap)).toBe(400);
    }
    const created = await call(svc, "POST", "/api/v1/channel/", {
      channel_id: "DAY",
      channel_type: "log",
      daily_cap: 2,
      sending_window: { start: "08:00", end: "20:00" },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().daily_cap).toBe(2);
    expect((await call(svc, "GET", "/api/v1/channel/LOG/")).json().daily_cap).toBeNull();
    const patched = await call(svc, "PATCH", "/api/v1/channel/DAY/", { daily_cap: 0 });
    expect(patched.json().daily_cap).toBe(0);
    expect((await call(svc, "PATCH", "/api/v1/channel/DAY/", { daily_cap: -2 })).statusCode).toBe(400);
    expect((await call(svc, "PATCH", "/api/v1/channel/DAY/", { daily_cap: 2 })).json().daily_cap).toBe(2);
  });

  it("defers the third message of the day to the next morning's window in the recipient's zone, and sends it then", async ({
    svc,
  }) => {
    const person = await tokyoIdentity(svc);
    // DAY: daily_cap 2, window 08:00-20:00. Three at once: two go, one waits for 08:00 tomorrow in Tokyo.
    const first = await Promise.all([1, 2, 3].map(() => send(svc, { to_identity: person, channel: "DAY" })));
    const rows = await settled(svc, first);
    expect(rows.filter((o) => o.status === "delivered")).toHaveLength(2);
    const [deferred] = rows.filter((o) => o.status === "queued");
    expect(deferred).toMatchObject({ attempts: 0, not_before: "2026-03-10T23:00:00.000000Z" });
    expect(new Date(deferred.not_before).toLocaleString("sv-SE", { timeZone: "Asia/Tokyo" })).toBe(
      "2026-03-11 08:00:00",
    );
    // A verification code is neither capped nor counted.
    const code = await send(svc, { to_identity: person, channel: "DAY", priority: "high" });
    await waitFor(async () => (await outbound(svc, code)).status === "delivered", { what: "the code sent" });
    // A message that would expire before tomorrow's window expires instead of waiting.
    const stale = await send(svc, {
      to_identity: person,
      channel: "DAY",
      expires_at: "2026-03-10T20:00:00.000Z",
    });
    await waitFor(async () => (await outbound(svc, stale)).status === "expired", { what: "it expired" });
    expect(await count(svc, person, "2026-03-10")).toBe(2);

    // LOG has no cap of its own: DAILY_CAP_PER_PERSON (3) applies, to the person's count across channels. No
    // window there: the fourth waits for midnight in Tokyo (15:00Z).
    const third = await send(svc, { to_identity: person, channel: "LOG" });
    await waitFor(async () => (await outbound(svc, third)).status === "delivered", { what: "the third" });
    const fourth = await send(svc, { to_identity: person, channel: "LOG" });
    const [waiting] = await settled(svc, [fourth]);
    expect(waiting).toMatchObject({ status: "queued", not_before: "2026-03-10T15:00:00.000000Z" });
    expect(await count(svc, person, "2026-03-10")).toBe(3);

    // Midnight in Tokyo: the LOG one goes; DAY's window is still closed.
    now = new Date("2026-03-10T15:00:00.500Z");
    await waitFor(async () => (await outbound(svc, fourth)).status === "delivered", { what: "the fourth" });
    expect(await outbound(svc, deferred.id)).toMatchObject({ status: "queued", attempts: 0 });
    // The window opens on the new day: the deferred one is sent.
    now = new Date("2026-03-10T23:00:00.500Z");
    await waitFor(async () => (await outbound(svc, deferred.id)).status === "delivered", {
      what: "the deferred message sent the next morning",
    });
    expect(await count(svc, person, "2026-03-11")).toBe(2);
    expect(await count(svc, person, "2026-03-10")).toBe(3);
  });

  it("gives a message's place back when the provider refuses it", async ({ svc }) => {
    const person = await tokyoIdentity(svc);
    const refused = await send(svc, { to_identity: person, channel: "REJECTS" });
    await waitFor(async () => (await outbound(svc, refused)).status === "failed", { what: "refused" });
    expect(await count(svc, person, "2026-03-11")).toBe(0);
    expect(await svc.db.dailyCapSend.count({ where: { outboundId: refused } })).toBe(0);
  });

  it("holds across competing workers: never more than the cap in a day", async ({ svc, moreWorkers }) => {
    expect(moreWorkers).toBe(2);
    const person = await tokyoIdentity(svc);
    await call(svc, "POST", "/api/v1/channel/", { channel_id: "RACE", channel_type: "log", daily_cap: 5 });
    const res = await call(svc, "POST", "/api/v1/outbound/batch/", {
      channel: "RACE",
      content: "hello",
      recipients: Array.from({ length: 40 }, () => ({ to_identity: person })),
    });
    expect(res.statusCode, res.body).toBe(202);
    const ids = (await svc.db.outbound.findMany({ where: { batchId: res.json().id } })).map((o) => o.id);
    expect(ids).toHaveLength(40);
    const rows = await settled(svc, ids);
    await waitForIdle(svc.broker, "message-sender.outbound-send-bulk");
    const sent = await svc.db.outbound.findMany({ where: { id: { in: ids }, status: "delivered" } });
    expect(sent).toHaveLength(5);
    expect(rows.filter((o) => o.status === "queued")).toHaveLength(35);
    expect(await count(svc, person, "2026-03-11")).toBe(5);
  });
});
