import { adminAuth, serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { createMessageSenderService } from "../src/service.ts";
import { msisdn } from "./helpers.ts";
import type { Svc } from "./support.ts";

const it = serviceTest(
  createMessageSenderService({
    // A transport that accepts messages and reports on them later, as Vumi does.
    channels: () => ({ VUMI: { send: async (o) => ({ providerId: `vumi-${o.id}`, delivered: false }) } }),
  }),
  // One attempt: a nack is final here (retries: redelivery.int.test.ts).
  { worker: true, env: { REDELIVERY_MAX_ATTEMPTS: "1" } },
);

const submitted = async (svc: Svc) => {
  const res = await svc.app.inject({
    method: "POST",
    url: "/api/v1/outbound/",
    headers: adminAuth,
    payload: { to_addr: msisdn(), content: "x", metadata: {}, channel: "VUMI" },
  });
  const { id } = res.json();
  await waitFor(
    async () => (await svc.db.outbound.findUniqueOrThrow({ where: { id } })).status === "submitted",
    {
      what: "submitted",
    },
  );
  return id as string;
};
const event = (svc: Svc, payload: object, headers: Record<string, string> = adminAuth) =>
  svc.app.inject({
    method: "POST",
    url: "/api/v1/events",
    headers,
    payload: { message_type: "event", ...payload },
  });
const statusOf = async (svc: Svc, id: string) =>
  (await svc.db.outbound.findUniqueOrThrow({ where: { id } })).status;

describe("Seed's generic events (Vumi format)", () => {
  it("apply a delivery report once, and ignore acks, pending reports and replays", async ({ svc }) => {
    const id = await submitted(svc);
    const ack = await event(svc, { event_type: "ack", user_message_id: `vumi-${id}` });
    expect(ack.json()).toEqual({ accepted: true, reason: "Event ignored" });
    await event(svc, {
      event_type: "delivery_report",
      user_message_id: `vumi-${id}`,
      delivery_status: "pending",
    });
    expect(await statusOf(svc, id)).toBe("submitted");
    const dr = await event(svc, {
      event_type: "delivery_report",
      user_message_id: `vumi-${id}`,
      delivery_status: "delivered",
    });
    expect(dr.json()).toEqual({ accepted: true, reason: "Event processed" });
    expect(await statusOf(svc, id)).toBe("delivered");
    await event(svc, { event_type: "nack", user_message_id: `vumi-${id}`, nack_reason: "late" });
    expect(await statusOf(svc, id)).toBe("delivered");
  });

  it("fail an outbound on a nack, with its reason", async ({ svc }) => {
    const id = await submitted(svc);
    await event(svc, { event_type: "nack", user_message_id: `vumi-${id}`, nack_reason: "no route" });
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id } })).toMatchObject({
      status: "failed",
      lastError: "nack: no route",
      toAddr: "",
    });
  });

  it("keep a nack's reason with its numbers and emails masked, in last_error and the history", async ({
    svc,
  }) => {
    const id = await submitted(svc);
    const nack_reason = "rejected: invalid destination +27820001001 for ann@example.org";
    await event(svc, { event_type: "nack", user_message_id: `vumi-${id}`, nack_reason });
    const row = await svc.db.outbound.findUniqueOrThrow({ where: { id } });
    const masked = "nack: rejected: invalid destination [phone] for [email]";
    expect(row).toMatchObject({ status: "failed", lastError: masked });
    expect(row.history).toContainEqual(expect.objectContaining({ status: "failed", reason: masked }));
    expect(JSON.stringify(row)).not.toMatch(/27820001001|ann@example/);
  });

  it("answer 400 for an unknown message and 401 without a token", async ({ svc }) => {
    const unknown = await event(svc, { event_type: "ack", user_message_id: "nope" });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.message).toBe("Cannot find message for ID nope");
    expect((await event(svc, { event_type: "ack", user_message_id: "nope" }, {})).statusCode).toBe(401);
  });
});
