import type { VonageSimulator } from "@tidings/provider-simulators";
import { waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { msisdn, statusesOf } from "./helpers.ts";
import { call, type Svc, waitForStatus } from "./support.ts";
import { vonageTest as it } from "./vonage-support.ts";

// Long messages on a vonage channel: Vonage splits them into parts, each with its own message id and receipt.
describe("long messages: one message id and one receipt per part", () => {
  /** 400 GSM-7 characters: three parts (153 + 153 + 94). */
  const sendLong = async (svc: Svc, sim: VonageSimulator) => {
    const res = await call(svc, "POST", "/api/v1/outbound/", {
      to_addr: msisdn(),
      content: "x".repeat(400),
      metadata: {},
      channel: "VON",
    });
    expect(res.statusCode).toBe(201);
    const id = res.json().id as string;
    const message = await waitFor(() => sim.messages.find((m) => m.clientRef === id), {
      what: "the message at the simulator",
    });
    expect(message.parts).toHaveLength(3);
    return { id, message, partIds: message.parts.map((p) => p.messageId) };
  };
  /** The final receipts of these parts the service has answered. */
  const answeredFinals = (sim: VonageSimulator, partIds: string[]) =>
    sim.callbacks.filter(
      (c) =>
        partIds.includes(c.params.messageId ?? "") && c.params.status !== "accepted" && c.responseStatus > 0,
    );
  const partStatuses = async (svc: Svc, partIds: string[]) =>
    (await svc.db.outboundPart.findMany({ where: { channel: "VON", providerId: { in: partIds } } }))
      .sort((a, b) => (a.part ?? 0) - (b.part ?? 0))
      .map((p) => [p.part, p.status]);
  const history = (svc: Svc, id: string) => statusesOf(svc.db, id);

  it("is delivered only after its last part's receipt; replayed part receipts change nothing", async ({
    svc,
    sim,
  }) => {
    sim.configure({ partOutcome: (_m, part) => (part === 3 ? { delayMs: 1_500 } : undefined) });
    try {
      const { id, partIds } = await sendLong(svc, sim);
      await waitFor(() => answeredFinals(sim, partIds).length === 2, { what: "parts 1 and 2 delivered" });
      expect((await call(svc, "GET", `/api/v1/outbound/${id}/`)).json()).toMatchObject({
        status: "submitted",
        provider_id: partIds[0],
      });
      expect(await partStatuses(svc, partIds)).toEqual([
        [1, "delivered"],
        [2, "delivered"],
        [3, "submitted"],
      ]);
      expect(await waitForStatus(svc, id, "delivered")).toMatchObject({
        provider_id: partIds[0],
        to_addr: "",
      });
      // The simulator records the last receipt once its answer is back, which can be after the service committed it.
      await waitFor(() => answeredFinals(sim, partIds).length === 3, { what: "part 3's receipt answered" });
      for (const part of partIds) {
        expect(await sim.sendReceipt(part, "failed", "6")).toBe(200);
        expect(await sim.sendReceipt(part, "delivered")).toBe(200);
      }
      expect((await call(svc, "GET", `/api/v1/outbound/${id}/`)).json().status).toBe("delivered");
      expect(await history(svc, id)).toEqual(["submitted", "delivered"]);
      expect(await partStatuses(svc, partIds)).toEqual([
        [1, "delivered"],
        [2, "delivered"],
        [3, "delivered"],
      ]);
    } finally {
      sim.configure({ partOutcome: undefined });
    }
  });

  it("fails with the reason of a part that failed, whatever the other parts say", async ({ svc, sim }) => {
    sim.configure({
      partOutcome: (_m, part) => (part === 2 ? { status: "failed", errCode: "6" } : { delayMs: 500 }),
    });
    try {
      const { id, partIds } = await sendLong(svc, sim);
      expect(await waitForStatus(svc, id, "failed")).toMatchObject({
        last_error: "vonage failed (error 6) (part 2 of 3)",
        provider_id: partIds[0],
      });
      await waitFor(() => answeredFinals(sim, partIds).length === 3, { what: "every part's receipt" });
      expect((await call(svc, "GET", `/api/v1/outbound/${id}/`)).json().status).toBe("failed");
      expect(await history(svc, id)).toEqual(["submitted", "failed"]);
    } finally {
      sim.configure({ partOutcome: undefined });
    }
  });

  it("a part refused while the others were accepted fails the message, which is not sent again", async ({
    svc,
    sim,
  }) => {
    sim.configure({ refusePart: { part: 2, failure: { status: "6", errorText: "Invalid Message" } } });
    try {
      const { id, partIds } = await sendLong(svc, sim);
      expect(await waitForStatus(svc, id, "failed")).toMatchObject({
        last_error: "vonage 6: Invalid Message (part 2 of 3)",
        provider_id: partIds[0],
        attempts: 1,
      });
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // past the first retry delays (100, 300 ms)
      expect(sim.requests.filter((r) => r["client-ref"] === id)).toHaveLength(1);
      expect(await history(svc, id)).toEqual(["submitted", "failed"]);
    } finally {
      sim.configure({ refusePart: undefined });
    }
  });

  it("takes part receipts that overtake the send's answer", async ({ svc, sim }) => {
    sim.configure({ answerDelayMs: 1_000 });
    try {
      const { id, partIds } = await sendLong(svc, sim);
      await waitFor(() => answeredFinals(sim, partIds).length === 3, { what: "every part's receipt" });
      // Every receipt came before the worker heard the message was accepted: kept until the send is recorded.
      expect((await svc.db.outbound.findUniqueOrThrow({ where: { id } })).status).toBe("queued");
      expect(await waitForStatus(svc, id, "delivered")).toMatchObject({ provider_id: partIds[0] });
      expect(await history(svc, id)).toEqual(["submitted", "delivered"]);
    } finally {
      sim.configure({ answerDelayMs: 0 });
    }
  });
});
