import { randomUUID } from "node:crypto";
import type { OutboundSend } from "@tidings/contracts";
import { describe, expect } from "vitest";
import { address, historyOf, identityEvent, msisdn, statusesOf, waitForIdle } from "./helpers.ts";
import { addToBook, eventsOf, finalOutbound, outbound, post, sendingTest, waitForEvents } from "./support.ts";

// One id is sent once, a failed record of a send is retried, and channel failures (sending: sending.int.test.ts).
const it = sendingTest();

describe("idempotency: one id is sent once", () => {
  it("sends an outbound.send published 5 times once, and ignores it again after delivery", async ({
    svc,
    capture,
    sendsOf,
  }) => {
    // To an identity: after delivery to_addr is wiped, but the address book could still resolve it again.
    const identity = identityEvent([address("msisdn", msisdn(), { default: true })]);
    await addToBook(svc, identity, "identity.created");
    const id = randomUUID();
    const command: OutboundSend = { id, to_identity: identity.id, content: "Once", metadata: {} };
    // Same id in the payload; the AMQP messageId repeats for some copies and not for others.
    await Promise.all([
      svc.broker.publish("outbound.send", command, { messageId: id }),
      svc.broker.publish("outbound.send", command, { messageId: id }),
      svc.broker.publish("outbound.send", command),
      svc.broker.publish("outbound.send", command),
      svc.broker.publish("outbound.send", command),
    ]);
    expect(await finalOutbound(svc, id)).toMatchObject({ status: "delivered", attempts: 1 });
    await waitForIdle(svc.broker, "message-sender.outbound-send");
    // Again once delivered: redelivered, and republished with another body (the first one stored wins).
    await svc.broker.publish("outbound.send", command, { messageId: id });
    await svc.broker.publish("outbound.send", { ...command, content: "A different body" });
    await waitForIdle(svc.broker, "message-sender.outbound-send");

    expect(await outbound(svc, id)).toMatchObject({ status: "delivered", attempts: 1, content: "Once" });
    expect(sendsOf(id)).toHaveLength(1);
    await waitForEvents(capture, id, 3);
    expect(eventsOf(capture, id).map((e) => e.name)).toEqual([
      "outbound.submitted",
      "outbound.delivered",
      "outbound.delivery_report",
    ]);
    expect((await statusesOf(svc.db, id)).filter((s) => s === "submitted")).toHaveLength(1);
  });

  it("sends an outbound whose claim was left by a crashed worker once that claim lapses", async ({
    svc,
    sendsOf,
  }) => {
    const id = randomUUID();
    const to = msisdn();
    const lapsesAt = new Date(Date.now() + 600);
    await svc.db.outbound.create({
      data: { id, toAddr: to, metadata: {}, claimedBy: "crashed-worker", claimedUntil: lapsesAt },
    });
    await svc.broker.publish("outbound.send", { id, to_addr: to, metadata: {} });
    expect(await finalOutbound(svc, id)).toMatchObject({ status: "delivered", attempts: 1 });
    expect(sendsOf(id)).toHaveLength(1);
    const [submitted] = (await historyOf(svc.db, id)).filter((e) => e.status === "submitted");
    expect(Date.parse(submitted?.at ?? "")).toBeGreaterThanOrEqual(lapsesAt.getTime());
    expect(submitted).toMatchObject({ worker: svc.config.WORKER_ID });
  });

  it("stores and sends an outbound.send that has no API row (another service's command)", async ({
    svc,
    sendsOf,
  }) => {
    const id = randomUUID();
    await svc.broker.publish("outbound.send", {
      id,
      to_addr: msisdn(),
      metadata: { source: "subscription" },
    });
    expect(await finalOutbound(svc, id)).toMatchObject({
      status: "delivered",
      channel: "LOG",
      metadata: { source: "subscription" },
      created_by: null,
    });
    expect(sendsOf(id)).toHaveLength(1);
  });
});

describe("recording a send", () => {
  it("retries a failed write of the send in place, without sending again", async ({
    svc,
    capture,
    sendsOf,
  }) => {
    const id = randomUUID();
    // The first record of this outbound's send (queued -> submitted) fails, as a dropped connection or a deadlock
    // would. (nextval is not rolled back with the transaction, so only the first record fails.)
    await svc.db.$executeRawUnsafe("CREATE SEQUENCE record_failures");
    await svc.db.$executeRawUnsafe(`
      CREATE FUNCTION fail_first_record() RETURNS trigger AS $$ BEGIN
        IF NEW.id = '${id}' AND OLD.status = 'queued' AND NEW.status = 'submitted'
          AND nextval('record_failures') = 1 THEN
          RAISE EXCEPTION 'injected failure';
        END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`);
    await svc.db.$executeRawUnsafe(
      "CREATE TRIGGER fail_first_record BEFORE UPDATE ON outbound FOR EACH ROW EXECUTE FUNCTION fail_first_record()",
    );
    try {
      await svc.broker.publish("outbound.send", { id, to_addr: msisdn(), metadata: {} });
      expect(await finalOutbound(svc, id)).toMatchObject({ status: "delivered", attempts: 1 });
      const [{ failures }] = await svc.db.$queryRawUnsafe<[{ failures: bigint }]>(
        "SELECT last_value AS failures FROM record_failures",
      );
      expect(failures).toBeGreaterThanOrEqual(2n);
      expect(sendsOf(id)).toHaveLength(1);
      const events = await waitForEvents(capture, id, 3);
      expect(events.map((e) => e.name)).toEqual([
        "outbound.submitted",
        "outbound.delivered",
        "outbound.delivery_report",
      ]);
    } finally {
      await svc.db.$executeRawUnsafe("DROP TRIGGER fail_first_record ON outbound");
      await svc.db.$executeRawUnsafe("DROP FUNCTION fail_first_record");
      await svc.db.$executeRawUnsafe("DROP SEQUENCE record_failures");
    }
  });
});

describe("channel failures", () => {
  it("retries a passing provider error and records one submission", async ({ svc, capture, sendsOf }) => {
    const created = (await post(svc, { to_addr: msisdn(), metadata: {}, channel: "FLAKY" })).json();
    expect(await finalOutbound(svc, created.id)).toMatchObject({
      status: "delivered",
      channel: "FLAKY",
      attempts: 1,
      last_error: null,
    });
    expect(sendsOf(created.id)).toHaveLength(2);
    const events = await waitForEvents(capture, created.id, 3);
    expect(events.map((e) => e.name)).toEqual([
      "outbound.submitted",
      "outbound.delivered",
      "outbound.delivery_report",
    ]);
  });

  it("fails an outbound the provider refuses for good, with the reason and no address left", async ({
    svc,
    capture,
    sendsOf,
  }) => {
    const to = msisdn();
    const created = (await post(svc, { to_addr: to, metadata: {}, channel: "REJECTING" })).json();
    expect(await finalOutbound(svc, created.id)).toMatchObject({
      status: "failed",
      to_addr: "",
      attempts: 0,
      // The reason is kept, the number in it is not.
      last_error: "rejected by the provider: [phone] is not a mobile number",
    });
    expect(sendsOf(created.id)).toHaveLength(1);
    const report = await waitForEvents(capture, created.id, 2);
    expect(report.map((e) => e.name)).toEqual(["outbound.failed", "outbound.delivery_report"]);
  });

  it("fails an outbound.send for a channel this sender does not have", async ({ svc }) => {
    const id = randomUUID();
    await svc.broker.publish("outbound.send", { id, to_addr: msisdn(), metadata: {}, channel: "PIGEON" });
    expect(await finalOutbound(svc, id)).toMatchObject({
      status: "failed",
      last_error: "unknown channel PIGEON",
    });
  });
});
