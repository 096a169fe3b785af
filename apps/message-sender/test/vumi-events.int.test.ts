import { adminAuth, startTestService, type TestService, waitFor } from "@tidings/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessageSenderConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { createMessageSenderService } from "../src/service.ts";
import { msisdn } from "./helpers.ts";

let svc: TestService<MessageSenderConfig, Db>;

beforeAll(async () => {
  svc = await startTestService(
    createMessageSenderService({
      // A transport that accepts messages and reports on them later, as Vumi does.
      channels: () => ({ VUMI: { send: async (o) => ({ providerId: `vumi-${o.id}`, delivered: false }) } }),
    }),
    // One attempt: a nack is final here (retries: redelivery.int.test.ts).
    { worker: true, env: { REDELIVERY_MAX_ATTEMPTS: "1" } },
  );
});
afterAll(async () => {
  await svc?.close();
});

const submitted = async () => {
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
const event = (payload: object, headers: Record<string, string> = adminAuth) =>
  svc.app.inject({
    method: "POST",
    url: "/api/v1/events",
    headers,
    payload: { message_type: "event", ...payload },
  });
const statusOf = async (id: string) => (await svc.db.outbound.findUniqueOrThrow({ where: { id } })).status;

describe("Seed's generic events (Vumi format)", () => {
  it("apply a delivery report once, and ignore acks, pending reports and replays", async () => {
    const id = await submitted();
    const ack = await event({ event_type: "ack", user_message_id: `vumi-${id}` });
    expect(ack.json()).toEqual({ accepted: true, reason: "Event ignored" });
    await event({ event_type: "delivery_report", user_message_id: `vumi-${id}`, delivery_status: "pending" });
    expect(await statusOf(id)).toBe("submitted");
    const dr = await event({
      event_type: "delivery_report",
      user_message_id: `vumi-${id}`,
      delivery_status: "delivered",
    });
    expect(dr.json()).toEqual({ accepted: true, reason: "Event processed" });
    expect(await statusOf(id)).toBe("delivered");
    await event({ event_type: "nack", user_message_id: `vumi-${id}`, nack_reason: "late" });
    expect(await statusOf(id)).toBe("delivered");
  });

  it("fail an outbound on a nack, with its reason", async () => {
    const id = await submitted();
    await event({ event_type: "nack", user_message_id: `vumi-${id}`, nack_reason: "no route" });
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id } })).toMatchObject({
      status: "failed",
      lastError: "nack: no route",
      toAddr: "",
    });
  });

  it("answer 400 for an unknown message and 401 without a token", async () => {
    const unknown = await event({ event_type: "ack", user_message_id: "nope" });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.message).toBe("Cannot find message for ID nope");
    expect((await event({ event_type: "ack", user_message_id: "nope" }, {})).statusCode).toBe(401);
  });
});
