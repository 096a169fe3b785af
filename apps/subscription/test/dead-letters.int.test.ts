import { queueNames, queues, toSeedTime } from "@tidings/contracts";
import { AMQP_URL, adminAuth, serviceTest, type TestService, waitFor } from "@tidings/testing";
import amqp from "amqplib";
import { describe, expect } from "vitest";
import type { SubscriptionConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { subscriptionService } from "../src/service.ts";

const it = serviceTest(subscriptionService, { worker: true });

/** Publishes bytes the contract rejects, as a buggy producer would. */
async function publishPoison(svc: TestService<SubscriptionConfig, Db>, messageId: string): Promise<void> {
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createConfirmChannel();
  channel.publish(
    svc.broker.names.exchange("subscription"),
    "subscription.send-next",
    Buffer.from(JSON.stringify({ subscription_ids: ["not-a-uuid"], schedule: 1, slot: "soon" })),
    { messageId, type: "subscription.send-next", persistent: true },
  );
  await channel.waitForConfirms();
  await connection.close();
}

const get = (
  svc: TestService<SubscriptionConfig, Db>,
  url: string,
  headers: Record<string, string> = adminAuth,
) => svc.app.inject({ url, headers });

describe("dead letters over the API", () => {
  it("counts, lists and replays a poison message; admin only", async ({ svc }) => {
    await publishPoison(svc, "3f0e7c1a-9b2d-4c5e-8f7a-6b5c4d3e2f10");
    const counts = await waitFor(
      async () => {
        const list = (await get(svc, "/api/v1/dead-letters/")).json() as {
          queue: string;
          dead_letters: number;
        }[];
        return list.find((q) => q.queue === "subscription.send-next" && q.dead_letters === 1) && list;
      },
      { what: "dead letter counted" },
    );
    // Every queue this service consumes, and only those.
    expect(counts.map((q) => q.queue).sort()).toEqual(
      queueNames.filter((name) => queues[name].consumer === "subscription").sort(),
    );
    expect(counts.map((q) => q.queue)).toContain("subscription.identity-events");

    const letters = (await get(svc, "/api/v1/dead-letters/subscription.send-next/")).json();
    expect(letters).toEqual([
      {
        messageId: "3f0e7c1a-9b2d-4c5e-8f7a-6b5c4d3e2f10",
        type: "subscription.send-next",
        payload: { subscription_ids: ["not-a-uuid"], schedule: 1, slot: "soon" },
        error: expect.stringContaining("invalid subscription.send-next payload"),
        attempts: 1,
        failedAt: expect.any(String),
      },
    ]);

    // Replayed, it is handled again, fails again, and is back in the DLQ: nothing is lost either way.
    const replay = await svc.app.inject({
      method: "POST",
      url: "/api/v1/dead-letters/subscription.send-next/replay/",
      headers: adminAuth,
      payload: { message_ids: ["3f0e7c1a-9b2d-4c5e-8f7a-6b5c4d3e2f10"] },
    });
    expect(replay.json()).toEqual({ replayed: 1 });
    await waitFor(
      async () =>
        ((await get(svc, "/api/v1/dead-letters/subscription.send-next/")).json() as unknown[]).length === 1,
      {
        what: "back in the DLQ",
      },
    );
  });

  it("refuses other services' queues and non-admin tokens", async ({ svc }) => {
    expect((await get(svc, "/api/v1/dead-letters/message-sender.outbound-send/")).statusCode).toBe(404);
    const token = (
      await svc.app.inject({
        method: "POST",
        url: "/api/v1/user/token/",
        headers: adminAuth,
        payload: { email: "hub@example.org" },
      })
    ).json().token as string;
    expect((await get(svc, "/api/v1/dead-letters/", { authorization: `Token ${token}` })).statusCode).toBe(
      403,
    );
  });
});

describe("Seed failed tasks", () => {
  it("lists each subscription of a dead-lettered send as a failed task, and requeues them", async ({
    svc,
  }) => {
    const T = "2026-03-01T00:00:00.000Z";
    await svc.broker.publish("content.schedule.changed", {
      id: 1,
      minute: "0",
      hour: "8",
      day_of_week: "*",
      day_of_month: "*",
      month_of_year: "*",
      timezone: "UTC",
      cron_definition: "0 8 * * *",
      created_at: T,
      updated_at: T,
    });
    await svc.broker.publish("content.messageset.changed", {
      id: 1,
      short_name: "failed-tasks",
      label: "",
      notes: null,
      channel: null,
      next_set: null,
      default_schedule: 1,
      content_type: "text",
      created_at: T,
      updated_at: T,
    });
    await svc.broker.publish("content.message.changed", {
      id: 1,
      messageset: 1,
      sequence_number: 1,
      lang: "eng_ZA",
      text_content: "hello",
      binary_content: null,
      metadata: {},
      created_at: T,
      updated_at: T,
    });
    await waitFor(() => svc.db.messageCopy.findUnique({ where: { id: 1 } }), { what: "content copy" });
    const sub = (
      await svc.app.inject({
        method: "POST",
        url: "/api/v1/subscriptions/",
        headers: adminAuth,
        payload: {
          identity: "0c6c7b5e-6d2a-4f0a-9d7e-3f3c1c1d2b01",
          messageset: 1,
          schedule: 1,
          lang: "eng_ZA",
        },
      })
    ).json();

    // A send command that failed every attempt, as the consumer leaves it in the dead-letter queue.
    const connection = await amqp.connect(AMQP_URL);
    const channel = await connection.createConfirmChannel();
    channel.sendToQueue(
      svc.broker.names.deadLetterQueue("subscription.send-next"),
      Buffer.from(
        JSON.stringify({ subscription_ids: [sub.id], schedule: 1, slot: new Date().toISOString() }),
      ),
      {
        messageId: "5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
        type: "subscription.send-next",
        persistent: true,
        headers: {
          "x-tidings-error": "database unavailable",
          "x-tidings-attempt": 5,
          "x-tidings-failed-at": T,
        },
      },
    );
    await channel.waitForConfirms();
    await connection.close();

    const ours = async () =>
      ((await get(svc, "/api/v1/failed-tasks/")).json() as { results: { task_id: string }[] }).results.filter(
        (t) => t.task_id === "5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
      );
    // One listing per poll: a listing holds the dead letters until its channel closes.
    const listed = await waitFor(
      async () => {
        const found = await ours();
        return found.length === 1 && found;
      },
      { what: "failed task listed" },
    );
    expect(listed).toEqual([
      {
        subscription: sub.id,
        task_id: "5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
        initiated_at: toSeedTime(new Date(T)), // the header as the consumer writes it (toISOString), answered in Seed's form
        reason: "database unavailable",
      },
    ]);

    // The poison message of the test above is requeued too; it fails again and goes back.
    await new Promise((r) => setTimeout(r, 200));
    const requeue = await svc.app.inject({
      method: "POST",
      url: "/api/v1/failed-tasks/",
      headers: adminAuth,
    });
    expect(requeue.statusCode).toBe(201);
    expect(requeue.json()).toMatchObject({ requeued_failed_tasks: true, requeued: expect.any(Number) });
    expect(requeue.json().requeued).toBeGreaterThanOrEqual(1);
    await waitFor(
      async () => (await svc.db.subscription.findUniqueOrThrow({ where: { id: sub.id } })).completed,
      {
        what: "the requeued send",
      },
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(await ours()).toEqual([]);
  });
});
