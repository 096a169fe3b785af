import { adminAuth, startTestService, type TestService } from "@tidings/service-kit/testing";
import { AMQP_URL, waitFor } from "@tidings/testing";
import amqp from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SubscriptionConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { subscriptionService } from "../src/service.ts";

let svc: TestService<SubscriptionConfig, Db>;

beforeAll(async () => {
  svc = await startTestService(subscriptionService, { worker: true });
});
afterAll(async () => {
  await svc?.close();
});

/** Publishes bytes the contract rejects, as a buggy producer would. */
async function publishPoison(messageId: string): Promise<void> {
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

const get = (url: string, headers: Record<string, string> = adminAuth) => svc.app.inject({ url, headers });

describe("dead letters over the API", () => {
  it("counts, lists and replays a poison message; admin only", async () => {
    await publishPoison("3f0e7c1a-9b2d-4c5e-8f7a-6b5c4d3e2f10");
    const counts = await waitFor(
      async () => {
        const list = (await get("/api/v1/dead-letters/")).json() as { queue: string; dead_letters: number }[];
        return list.find((q) => q.queue === "subscription.send-next" && q.dead_letters === 1) && list;
      },
      { what: "dead letter counted" },
    );
    expect(counts.map((q) => q.queue).sort()).toEqual([
      "subscription.content",
      "subscription.fan-out",
      "subscription.send-next",
    ]);

    const letters = (await get("/api/v1/dead-letters/subscription.send-next/")).json();
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
        ((await get("/api/v1/dead-letters/subscription.send-next/")).json() as unknown[]).length === 1,
      {
        what: "back in the DLQ",
      },
    );
  });

  it("refuses other services' queues and non-admin tokens", async () => {
    expect((await get("/api/v1/dead-letters/message-sender.outbound-send/")).statusCode).toBe(404);
    const token = (
      await svc.app.inject({
        method: "POST",
        url: "/api/v1/user/token/",
        headers: adminAuth,
        payload: { email: "hub@example.org" },
      })
    ).json().token as string;
    expect((await get("/api/v1/dead-letters/", { authorization: `Token ${token}` })).statusCode).toBe(403);
  });
});
