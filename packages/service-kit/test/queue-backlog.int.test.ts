/**
 * The operators' queue listing (`GET /api/v1/dead-letters/`): each queue's backlog and consumers next to its dead
 * letters, on a real identity API without its worker, so what is published waits in the queue.
 */
import { adminAuth, serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { identityService } from "../../../apps/identity/src/service.ts";

const it = serviceTest(identityService);

describe("GET /api/v1/dead-letters/", () => {
  it("shows each queue's waiting messages and consumers next to its dead letters", async ({ svc }) => {
    for (let i = 0; i < 3; i++) {
      await svc.broker.publishStored("topic.unsubscribed", { n: i });
    }
    const list = () =>
      svc.app.inject({ url: "/api/v1/dead-letters/", headers: adminAuth }).then((r) => r.json());
    const queues = await waitFor(
      async () => {
        const found = await list();
        return found.find((q: { queue: string; messages: number }) => q.messages === 3) && found;
      },
      { what: "the backlog counted" },
    );
    expect(queues).toContainEqual({
      queue: "identity.unsubscribes",
      messages: 3,
      consumers: 0,
      dead_letters: 0,
    });
    expect(queues).toContainEqual({ queue: "identity.inbound", messages: 0, consumers: 0, dead_letters: 0 });
  });
});
