/**
 * Forget means everywhere (issue 17): the five services in-process, sharing one AMQP namespace. A person with a
 * number, an email and a name gets subscriptions, outbounds (one sent, one deferred), inbounds (one through a
 * gateway that leaves out the number's +) and pending hook deliveries; after `optout_type: forget` no text,
 * varchar, json or array column of any of the five databases holds the number, the email or the name, the deferred
 * send is cancelled and never sent (not even by a stale `outbound.send`), no dead-letter queue of theirs holds a
 * dead letter about the person, and a repeated forget changes nothing more.
 */
import { randomUUID } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Broker, countDeadLetters, listDeadLetters } from "@tidings/amqp";
import { type QueueName, toSeedTime } from "@tidings/contracts";
import { adminAuth, closing, startTestService, waitFor } from "@tidings/testing";
import { describe, expect, test } from "vitest";
import { contentService } from "../../../apps/content/src/service.ts";
import { identityService } from "../../../apps/identity/src/service.ts";
import { noteInbound } from "../../../apps/message-sender/src/channels/twilio-whatsapp/session.ts";
import { createMessageSenderService } from "../../../apps/message-sender/src/service.ts";
import { schedulerService } from "../../../apps/scheduler/src/service.ts";
import { subscriptionService } from "../../../apps/subscription/src/service.ts";

const SENT_FILE = path.join(tmpdir(), `tidings-forget-sent-${process.pid}.jsonl`);
const start = async () => {
  const identity = await startTestService(identityService, { worker: true });
  const shared = { worker: true, namespace: identity.namespace };
  return {
    identity,
    subscription: await startTestService(subscriptionService, shared),
    content: await startTestService(contentService, shared),
    scheduler: await startTestService(schedulerService(), shared),
    "message-sender": await startTestService(createMessageSenderService(), {
      ...shared,
      env: { LOG_CHANNEL_FILE: SENT_FILE },
    }),
  };
};
type Services = Awaited<ReturnType<typeof start>>;
type Name = keyof Services;

/** The five services, started once for the file and closed (in reverse order) after its last test. */
const it = test.extend<{ svc: Services }>({
  svc: [
    closing(start, async (svc) => {
      for (const s of Object.values(svc).reverse()) {
        await s.close();
      }
      await rm(SENT_FILE, { force: true });
    }),
    { scope: "file" },
  ],
});

/** The test's calls to the services (`ok` expects a 2xx) and its looks into their databases. */
function helpers(svc: Services) {
  async function call(name: Name, method: "GET" | "POST", url: string, payload?: object) {
    const res = await svc[name].app.inject({
      method,
      url,
      headers: adminAuth,
      ...(payload ? { payload } : {}),
    });
    return { status: res.statusCode, body: res.json() };
  }
  async function ok(name: Name, method: "GET" | "POST", url: string, payload?: object) {
    const res = await call(name, method, url, payload);
    expect(res.status, `${method} ${name}${url}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
    return res.body;
  }

  /** Every row of every text, varchar, json(b) or array column of the service's database that holds a needle. */
  async function holding(name: Name, needles: string[]): Promise<string[]> {
    const db = svc[name].db;
    const columns = await db.$queryRawUnsafe<{ table_name: string; column_name: string }[]>(
      `SELECT c.table_name, c.column_name FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
       WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
         AND (c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')
              OR (c.data_type = 'ARRAY' AND c.udt_name IN ('_text', '_varchar')))`,
    );
    expect(columns.length).toBeGreaterThan(5);
    const found: string[] = [];
    for (const { table_name, column_name } of columns) {
      const [{ n }] = await db.$queryRawUnsafe<[{ n: number }]>(
        `SELECT count(*)::int AS n FROM "${table_name}" WHERE "${column_name}"::text ILIKE ANY($1::text[])`,
        needles.map((needle) => `%${needle}%`),
      );
      if (n > 0) {
        found.push(`${name}.${table_name}.${column_name}: ${n}`);
      }
    }
    return found;
  }

  const everywhere = async (needles: string[]) =>
    (await Promise.all((Object.keys(svc) as Name[]).map((name) => holding(name, needles)))).flat();

  /** A message-sender outbound once a worker has handled it (no longer queued). */
  const handled = (id: string, what: string) =>
    waitFor(
      async () => {
        const row = await svc["message-sender"].db.outbound.findUnique({ where: { id } });
        return row && row.status !== "queued" && row;
      },
      { what, timeoutMs: 20_000 },
    );
  return { call, ok, everywhere, handled };
}

/** Puts `body` straight into the dead-letter queue of `queue` (as a message that failed every attempt), confirmed. */
async function deadLetter(broker: Broker, queue: QueueName, body: object): Promise<void> {
  const channel = await broker.channel();
  try {
    channel.sendToQueue(broker.names.deadLetterQueue(queue), Buffer.from(JSON.stringify(body)), {
      messageId: randomUUID(),
      persistent: true,
    });
    await channel.waitForConfirms();
  } finally {
    await channel.close();
  }
}

const sentIds = async () =>
  (await readFile(SENT_FILE, "utf8").catch(() => ""))
    .split("\n")
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { id: string }).id);

describe("forget", () => {
  it("leaves no trace of the person in any of the five databases, and cancels their sends for good", async ({
    svc,
  }) => {
    const { call, ok, everywhere, handled } = helpers(svc);
    const suffix = String(process.pid % 100_000).padStart(5, "0");
    const number = `+2782${suffix}${String(Math.floor(Math.random() * 100)).padStart(2, "0")}`;
    const email = `nomvula.${suffix}@example.org`;
    const name = `Nomvula Forgetme${suffix}`;
    // Needles without the + and in lower case too: a national or differently-cased copy counts.
    const needles = [number, number.slice(1), email, name, `Forgetme${suffix}`];

    // Hooks whose deliveries stay pending (nothing listens there).
    for (const event of ["identity.created", "identity.updated"]) {
      await ok("identity", "POST", "/api/v1/webhook/", { event, target: "http://127.0.0.1:9/hook" });
    }
    await ok("subscription", "POST", "/api/v1/webhook/", {
      event: "subscription.created",
      target: "http://127.0.0.1:9/hook",
    });

    const person = await ok("identity", "POST", "/api/v1/identities/", {
      details: {
        addresses: { msisdn: { [number]: { default: true } }, email: { [email]: {} } },
        name,
        lang_code: "eng_ZA",
      },
    });
    const id = person.id as string;
    // They are on a team key's allow list too, beside a colleague: message-sender's, and identity's (which identity no
    // longer issues, but may hold from an earlier version).
    const colleague = "+27820000001";
    await ok("message-sender", "POST", "/api/v1/user/token/", {
      email: "team@example.org",
      kind: "team",
      allow_list: [number, email, colleague],
    });
    await svc.identity.app.authenticator.issue("team@example.org", {
      kind: "team",
      allowList: [number, email, colleague],
      rateLimit: null,
      dailyLimit: null,
    });

    // Content, and a subscription to it once the subscription service has its copy.
    const schedule = await ok("content", "POST", "/api/v1/schedule/", { minute: "0", hour: "8" });
    const set = await ok("content", "POST", "/api/v1/messageset/", {
      short_name: `forget.${suffix}.${randomUUID()}`,
      default_schedule: schedule.id,
    });
    await ok("content", "POST", "/api/v1/message/", {
      messageset: set.id,
      sequence_number: 1,
      lang: "eng_ZA",
      text_content: "Week 1: welcome",
    });
    await waitFor(
      async () =>
        (
          await call("subscription", "POST", "/api/v1/subscriptions/", {
            identity: id,
            messageset: set.id,
            schedule: schedule.id,
            lang: "eng_ZA",
          })
        ).status === 201,
      { what: "subscription accepted", timeoutMs: 20_000 },
    );
    await waitFor(
      async () =>
        (await svc.subscription.db.identityCopy.findUnique({ where: { id } })) &&
        (await call("subscription", "POST", "/api/v1/topics/clinic-news/subscribers/", { identity: id }))
          .status < 300,
      { what: "topic subscription", timeoutMs: 20_000 },
    );

    // One outbound sent (to the identity), one deferred for a day (to the number); an inbound from them.
    const ms = svc["message-sender"];
    await waitFor(() => ms.db.addressBookEntry.findUnique({ where: { identity: id } }), {
      what: "address book entry",
      timeoutMs: 20_000,
    });
    const sent = await ok("message-sender", "POST", "/api/v1/outbound/", {
      to_identity: id,
      content: `Hello ${name}`,
      metadata: { name },
    });
    const deferred = await ok("message-sender", "POST", "/api/v1/outbound/", {
      to_addr: number,
      content: `Your appointment, ${name}`,
      metadata: { email },
      not_before: new Date(Date.now() + 86_400_000).toISOString(),
    });
    await waitFor(
      async () => (await ms.db.outbound.findUnique({ where: { id: sent.id } }))?.status === "delivered",
      { what: "first outbound delivered", timeoutMs: 20_000 },
    );
    // They wrote to a WhatsApp channel too: their customer-service window, kept by number.
    await noteInbound(ms.db, "WHATSAPP", number);
    // A daily reminder the scheduler sends them, a hub's HTTP schedule about them, and a colleague's reminder.
    const daily = { cron_definition: "0 9 * * *" };
    const reminder = await ok("scheduler", "POST", "/api/v1/schedule/", {
      ...daily,
      message: "outbound.send",
      payload: { id: "{{run_id}}", to_identity: id, content: `Take your pills, ${name}`, metadata: {} },
    });
    const hubs = await ok("scheduler", "POST", "/api/v1/schedule/", {
      ...daily,
      endpoint: "http://127.0.0.1:9/hub",
      payload: { msisdn: number, clinic: "Zola" },
    });
    const colleagues = await ok("scheduler", "POST", "/api/v1/schedule/", {
      ...daily,
      message: "outbound.send",
      payload: { id: "{{run_id}}", to_addr: colleague, content: "Take your pills", metadata: {} },
    });
    const inbound = await ok("message-sender", "POST", "/api/v1/inbound/", {
      from_addr: number,
      content: `This is ${name}, ${email}`,
      message_id: randomUUID(),
      helper_metadata: { from: number },
    });
    // And through a gateway that gives their number without its + (Vumi, Junebug).
    const gatewayInbound = await ok("message-sender", "POST", "/api/v1/inbound/", {
      from_addr: number.slice(1),
      content: `Hi, ${name} here`,
      message_id: randomUUID(),
    });
    await waitFor(
      async () =>
        (await svc.identity.db.hookDelivery.count({
          where: { status: "pending", body: { contains: name } },
        })) > 0,
      { what: "pending hook delivery" },
    );
    expect((await everywhere(needles)).length).toBeGreaterThan(0);
    // Dead letters about them in each forgetting service's dead-letter queues, and one about someone else.
    const other = { id: randomUUID(), to_identity: randomUUID(), content: "Hello", metadata: {} };
    const letters = [
      {
        service: "identity",
        queue: "identity.inbound",
        body: { from_addr: number, content: `This is ${name}` },
      },
      { service: "subscription", queue: "subscription.identity-copy", body: { id, details: person.details } },
      { service: "scheduler", queue: "scheduler.content-schedules", body: { to_addr: number } },
      {
        service: "message-sender",
        queue: "message-sender.outbound-send",
        body: { id: randomUUID(), to_identity: id },
      },
      { service: "message-sender", queue: "message-sender.outbound-send", body: other },
    ] as const;
    for (const { service, queue, body } of letters) {
      await deadLetter(svc[service].broker, queue, body);
    }
    const dlqs = [...new Set(letters.map((l) => `${l.service} ${l.queue}`))].map((key) => {
      const [service, queue] = key.split(" ") as [Name, QueueName];
      return { service, queue };
    });
    const before = await Promise.all(
      dlqs.map(({ service, queue }) => countDeadLetters(svc[service].broker, queue)),
    );

    await ok("identity", "POST", "/api/v1/optout/", {
      optout_type: "forget",
      identity: id,
      request_source: "test",
    });
    // Each service removed theirs (one each); the other person's stays.
    await waitFor(
      async () =>
        (
          await Promise.all(
            dlqs.map(
              async ({ service, queue }, i) =>
                (await countDeadLetters(svc[service].broker, queue)) === (before[i] ?? 0) - 1,
            ),
          )
        ).every(Boolean),
      { what: "their dead letters removed", timeoutMs: 20_000 },
    );
    const leftInSends = await listDeadLetters(svc["message-sender"].broker, "message-sender.outbound-send");
    expect(leftInSends.map((d) => d.payload)).toContainEqual(other);
    expect(JSON.stringify(leftInSends)).not.toContain(id);

    const deferredRow = await waitFor(
      async () => {
        const row = await ms.db.outbound.findUnique({ where: { id: deferred.id } });
        return row?.status === "cancelled" && row;
      },
      { what: "deferred outbound cancelled", timeoutMs: 20_000 },
    );
    expect(deferredRow).toMatchObject({ lastError: "forgotten", toAddr: "", content: null, metadata: {} });
    // The schedules that named them are disabled, with every mention redacted; the colleague's runs on.
    const scheduleOf = async (s: { id: string }) =>
      (await call("scheduler", "GET", `/api/v1/schedule/${s.id}/`)).body;
    await waitFor(async () => (await scheduleOf(hubs)).enabled === false, {
      what: "their schedules disabled",
      timeoutMs: 20_000,
    });
    expect(await scheduleOf(reminder)).toMatchObject({
      enabled: false,
      next_send_at: null,
      payload: { id: "redacted", to_identity: "redacted", content: "redacted", metadata: {} },
    });
    expect((await scheduleOf(hubs)).payload).toEqual({ msisdn: "redacted", clinic: "redacted" });
    expect(await scheduleOf(colleagues)).toMatchObject({ enabled: true, payload: { to_addr: colleague } });
    await waitFor(async () => (await everywhere(needles)).length === 0, {
      what: "no trace of the person",
      timeoutMs: 20_000,
    }).catch(async (err) => {
      throw new Error(`${(err as Error).message}; still found: ${(await everywhere(needles)).join(", ")}`);
    });

    // The team keys keep their colleague.
    for (const name of ["message-sender", "identity"] as const) {
      const team = await svc[name].db.apiToken.findFirstOrThrow({ where: { kind: "team" } });
      expect(team.allowList).toEqual([colleague]);
    }
    // Ids, statuses and timestamps stay for reporting.
    const sentRow = await ms.db.outbound.findUniqueOrThrow({ where: { id: sent.id } });
    expect(sentRow).toMatchObject({ status: "delivered", toIdentity: id, content: null, metadata: {} });
    expect(toSeedTime(sentRow.createdAt)).toBe(sent.created_at);
    for (const { id: inboundId } of [inbound, gatewayInbound]) {
      const inboundRow = await ms.db.inbound.findUniqueOrThrow({ where: { id: inboundId } });
      expect(inboundRow).toMatchObject({ fromIdentity: id, content: null, fromAddr: "" });
    }
    const subscriptions = await ok("subscription", "GET", `/api/v1/subscriptions/?identity=${id}`);
    expect(subscriptions.results.map((s: { active: boolean }) => s.active)).toEqual([false]);
    // The subscription service's copy is a tombstone, and no delivery about the person is left to send there.
    expect(await svc.subscription.db.identityCopy.findUnique({ where: { id } })).toMatchObject({
      deleted: true,
      details: {},
      addresses: [],
    });
    expect(
      await svc.subscription.db.hookDelivery.count({
        where: { event: "subscription.created", status: "pending", body: { contains: id } },
      }),
    ).toBe(0);

    // A stale outbound.send for the cancelled outbound, and a new one to the forgotten identity: neither is sent.
    const late = randomUUID();
    await svc.subscription.broker.publish(
      "outbound.send",
      { id: deferred.id, to_addr: number, content: `Your appointment, ${name}`, metadata: {} },
      { messageId: randomUUID() },
    );
    await svc.subscription.broker.publish(
      "outbound.send",
      { id: late, to_identity: id, content: `Week 2, ${name}`, metadata: { name } },
      { messageId: late },
    );
    const lateRow = await handled(late, "late outbound handled");
    expect(lateRow).toMatchObject({
      status: "cancelled",
      lastError: "forgotten",
      content: null,
      metadata: {},
    });
    // A new send by the number alone (no identity to recognise): the forget opted every address out in
    // message-sender's copy of consent (kept as SHA-256 only), so it goes nowhere either.
    const byNumber = randomUUID();
    await svc.subscription.broker.publish(
      "outbound.send",
      { id: byNumber, to_addr: number, content: "hello again", metadata: {} },
      { messageId: byNumber },
    );
    const byNumberRow = await handled(byNumber, "the send by number handled");
    expect(byNumberRow).toMatchObject({ status: "failed", lastError: "opted_out", toAddr: "" });

    // Forgetting again (the event delivered again) changes nothing more and fails nowhere.
    await ok("identity", "POST", "/api/v1/optout/", {
      optout_type: "forget",
      identity: id,
      request_source: "test",
    });
    await waitFor(
      async () =>
        (await svc.identity.db.optOut.count({ where: { identityId: id, optoutType: "forget" } })) === 2 &&
        (await svc.identity.db.outboxMessage.count()) === 0,
      { what: "second forget published" },
    );
    // The deferred send's original message, the stale copy and the late one all ended without a send.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await ms.db.outbound.findUniqueOrThrow({ where: { id: deferred.id } })).toMatchObject({
      status: "cancelled",
    });
    expect(await sentIds()).toEqual([sent.id]);
    expect(await everywhere(needles)).toEqual([]);
    // Nothing failed on the way: no dead letters but the other person's, planted above.
    for (const service of ["identity", "subscription", "message-sender"] as const) {
      const queues = (await ok(service, "GET", "/api/v1/dead-letters/")) as {
        queue: string;
        dead_letters: number;
      }[];
      expect(
        queues.filter((q) => q.dead_letters > (q.queue === "message-sender.outbound-send" ? 1 : 0)),
        `${service} dead letters`,
      ).toEqual([]);
    }
  }, 240_000); // 120 s of it for the five services to start
});
