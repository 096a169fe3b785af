import { randomUUID } from "node:crypto";
import type { OutboundSend, QueueName } from "@tidings/contracts";
import { serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { createMessageSenderService } from "../src/service.ts";
import { createTwilioChannel, msisdn } from "./helpers.ts";
import { type TwilioFixtures, twilioSetUp, twilioSimulator } from "./support.ts";

// Priority lanes: high, normal and bulk outbound.send go to separate queues with separate consumers, so a
// bulk backlog does not hold up a verification code.

const SID = `AC${"7".repeat(32)}`;
const TOKEN = "lanes-test-auth-token";
const BACKLOG = 5_000;

const it = serviceTest(createMessageSenderService(), {
  worker: true,
  env: { OUTBOUND_PREFETCH_BULK: "20", OUTBOUND_PREFETCH_HIGH: "5" },
}).extend<TwilioFixtures>({
  // A slow provider: every request takes 20 ms, so the backlog takes a while to drain.
  sim: twilioSimulator({ accounts: { [SID]: TOKEN }, latencyMs: 20 }),
  setUp: twilioSetUp((svc, sim) =>
    createTwilioChannel(svc.app, "SLOW", { sid: SID, token: TOKEN, url: sim.url }),
  ),
});

const command = (priority: OutboundSend["priority"], to = msisdn()): OutboundSend => ({
  id: randomUUID(),
  to_addr: to,
  content: "hello",
  channel: "SLOW",
  metadata: {},
  priority,
});

describe("priority lanes", () => {
  it("routes each priority to its own queue", async ({ svc }) => {
    const channel = await svc.broker.channel();
    try {
      const lanes: QueueName[] = [
        "message-sender.outbound-send-high",
        "message-sender.outbound-send",
        "message-sender.outbound-send-bulk",
      ];
      const consumers = await Promise.all(
        lanes.map(async (q) => (await channel.checkQueue(svc.broker.names.queue(q))).consumerCount),
      );
      // Every lane has its own consumer.
      expect(consumers).toEqual([1, 1, 1]);
    } finally {
      await channel.close();
    }
  });

  it("delivers a high-priority message long before a bulk backlog drains", async ({ svc, sim }) => {
    const bulk = Array.from({ length: BACKLOG }, () => command("bulk"));
    for (let i = 0; i < bulk.length; i += 500) {
      await Promise.all(bulk.slice(i, i + 500).map((c) => svc.broker.publish("outbound.send", c)));
    }
    // The backlog is being worked through.
    await waitFor(() => sim.requests.length >= 50, { what: "the backlog to start", timeoutMs: 60_000 });

    const high = command("high");
    await svc.broker.publish("outbound.send", high);
    const normal = command(undefined);
    await svc.broker.publish("outbound.send", normal);
    await waitFor(() => sim.requests.some((r) => r.To === high.to_addr), {
      what: "the high-priority message to reach the provider",
      timeoutMs: 60_000,
    });
    const position = sim.requests.findIndex((r) => r.To === high.to_addr);
    // It overtook most of the backlog: when it reached the provider, most bulk messages had not.
    console.info(`high-priority message reached the provider after ${position} of ${BACKLOG} bulk requests`);
    expect(position).toBeLessThan(BACKLOG / 2);
    await waitFor(() => sim.requests.some((r) => r.To === normal.to_addr), {
      what: "the normal message to reach the provider",
      timeoutMs: 60_000,
    });
    expect(sim.requests.findIndex((r) => r.To === normal.to_addr)).toBeLessThan(BACKLOG / 2);
    // Each is stored with its lane.
    const stored = await waitFor(
      async () => {
        const row = await svc.db.outbound.findUnique({ where: { id: high.id } });
        return row?.status === "submitted" && row;
      },
      { what: "the high-priority send to be recorded" },
    );
    expect(stored.priority).toBe("high");
    expect(await svc.db.outbound.count({ where: { priority: "bulk" } })).toBeGreaterThan(0);
  }, 180_000);
});
