/**
 * Message-sender as Seed hubs and transports call it: the requests Seed (Django REST framework) accepted, sent as
 * they send them (see packages/e2e/test/seed-hubs.int.test.ts for the hubs' whole flows over the wire).
 */
import { randomUUID } from "node:crypto";
import { adminAuth, serviceTest, type TestService } from "@tidings/testing";
import { describe, expect } from "vitest";
import type { MessageSenderConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { createMessageSenderService } from "../src/service.ts";
import { msisdn } from "./helpers.ts";

const it = serviceTest(createMessageSenderService());

type Svc = TestService<MessageSenderConfig, Db>;

const send = (svc: Svc, method: "POST" | "GET", url: string, payload?: object) =>
  svc.app.inject(
    payload === undefined
      ? { method, url, headers: adminAuth }
      : { method, url, headers: adminAuth, payload },
  );

const ids = async (svc: Svc, url: string): Promise<string[]> => {
  const res = await send(svc, "GET", url);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().results.map((r: { id: string }) => r.id);
};

const outbound = async (svc: Svc, body: Record<string, unknown> = {}) => {
  const res = await send(svc, "POST", "/api/v1/outbound/", {
    to_addr: msisdn(),
    content: "Hello",
    metadata: {},
    ...body,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
};

describe("Seed's outbound requests", () => {
  it("answers Seed's url and vumi_message_id beside Tidings' fields", async ({ svc }) => {
    const created = await outbound(svc);
    expect(created).toMatchObject({
      url: `http://localhost:80/api/v1/outbound/${created.id}/`,
      vumi_message_id: null,
      provider_id: null,
      status: "queued",
    });
    await svc.db.outbound.update({ where: { id: created.id }, data: { providerId: "vumi-read-1" } });
    const read = (await send(svc, "GET", `/api/v1/outbound/${created.id}/`)).json();
    expect(read).toMatchObject({
      url: created.url,
      vumi_message_id: "vumi-read-1",
      provider_id: "vumi-read-1",
    });
  });

  it("finds an outbound by its vumi_message_id alone (ndoh-hub's WhatsApp unsent event)", async ({ svc }) => {
    const wanted = await outbound(svc, { to_identity: randomUUID() });
    const other = await outbound(svc);
    await svc.db.outbound.update({
      where: { id: wanted.id },
      data: { providerId: "gBGGJ3EVEUV_AgkLEFYRAAMAAAAA" },
    });
    await svc.db.outbound.update({
      where: { id: other.id },
      data: { providerId: "gBGGJ3EVEUV_AgkLEFYRAAMAAAAB" },
    });
    const res = await send(svc, "GET", "/api/v1/outbound/?vumi_message_id=gBGGJ3EVEUV_AgkLEFYRAAMAAAAA");
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().count).toBe(1);
    expect(res.json().results[0]).toMatchObject({ id: wanted.id, to_identity: wanted.to_identity });
    expect(await ids(svc, "/api/v1/outbound/?vumi_message_id=nothing-like-it")).toEqual([]);
  });

  it("accepts Seed's delivered, attempts and resend in their text forms, and ignores delivered and attempts", async ({
    svc,
  }) => {
    const spelled = await outbound(svc, { delivered: "True", attempts: "3", resend: "True" });
    expect(spelled).toMatchObject({ delivered: false, attempts: 0, resend: true, status: "queued" });
    const typed = await outbound(svc, { delivered: true, attempts: 2, resend: false });
    expect(typed).toMatchObject({ delivered: false, attempts: 0, resend: false });
    expect(await outbound(svc, { resend: "0" })).toMatchObject({ resend: false });
    const stored = await svc.db.outbound.findUniqueOrThrow({ where: { id: spelled.id } });
    expect(stored).toMatchObject({ delivered: false, attempts: 0, resend: true });
    for (const bad of [
      { delivered: "maybe" },
      { attempts: "-1" },
      { attempts: "three" },
      { resend: "yes" },
    ]) {
      const res = await send(svc, "POST", "/api/v1/outbound/", { to_addr: msisdn(), metadata: {}, ...bad });
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
    }
  });

  it("filters on Seed's attempts, version and created_at/updated_at lookups, in Seed's ordering", async ({
    svc,
  }) => {
    const to = msisdn();
    const first = await outbound(svc, { to_addr: to, version: 2 });
    const second = await outbound(svc, { to_addr: to });
    await svc.db.outbound.update({
      where: { id: first.id },
      data: {
        attempts: 2,
        createdAt: new Date("2031-01-01T10:00:00Z"),
        updatedAt: new Date("2031-01-02T10:00:00Z"),
      },
    });
    await svc.db.outbound.update({
      where: { id: second.id },
      data: { createdAt: new Date("2031-01-03T10:00:00Z"), updatedAt: new Date("2031-01-03T10:00:00Z") },
    });
    const list = (query: string) => ids(svc, `/api/v1/outbound/?to_addr=${encodeURIComponent(to)}&${query}`);
    expect(await list("attempts=2")).toEqual([first.id]);
    expect(await list("version=2")).toEqual([first.id]);
    expect(await list("created_at=2031-01-01T10:00:00")).toEqual([first.id]);
    expect(await list("created_at__gte=2031-01-01T10:00:00Z")).toEqual([second.id, first.id]);
    expect(await list("created_at__gt=2031-01-01T10:00:00Z")).toEqual([second.id]);
    expect(await list("created_at__lte=2031-01-03T10:00:00Z&created_at__gt=2031-01-01T10:00:00Z")).toEqual([
      second.id,
    ]);
    expect(await list("created_at__lt=2031-01-03T10:00:00")).toEqual([first.id]);
    expect(await list("updated_at__lt=2031-01-03T00:00:00Z")).toEqual([first.id]);
    expect(await list("updated_at=2031-01-03T10:00:00Z")).toEqual([second.id]);
    expect(await list("ordering=created_at")).toEqual([first.id, second.id]);
    expect(await list("ordering=-created_at")).toEqual([second.id, first.id]);
    expect(await list("delivered=False&attempts=0")).toEqual([second.id]);
    const bad = await send(svc, "GET", "/api/v1/outbound/?ordering=updated_at");
    expect(bad.statusCode).toBe(400);
  });
});

/** A Vumi message as a Vumi Go or Junebug Vumi transport pushes it. */
const vumiMessage = (overrides: Record<string, unknown> = {}) => ({
  message_type: "user_message",
  message_version: "20110921",
  message_id: randomUUID().replaceAll("-", ""),
  timestamp: "2026-01-01 10:00:00.000000",
  routing_metadata: { endpoint_name: "default" },
  helper_metadata: { go: { conversation_key: "abc" } },
  transport_metadata: { network: "MTN" },
  transport_name: "sms_transport",
  transport_type: "sms",
  from_addr: msisdn(),
  from_addr_type: "msisdn",
  to_addr: "*120*1234#",
  to_addr_type: null,
  in_reply_to: null,
  session_event: "new",
  content: "Hello",
  group: null,
  provider: "vodacom",
  ...overrides,
});

describe("Seed's inbound requests", () => {
  it("stores a whole Vumi message as Seed's Inbound (session_event in helper_metadata)", async ({ svc }) => {
    const message = vumiMessage();
    const res = await send(svc, "POST", "/api/v1/inbound/", message);
    expect(res.statusCode, res.body).toBe(201);
    const inbound = res.json();
    expect(inbound).toMatchObject({
      url: `http://localhost:80/api/v1/inbound/${inbound.id}/`,
      message_id: message.message_id,
      in_reply_to: null,
      to_addr: "*120*1234#",
      from_addr: message.from_addr,
      content: "Hello",
      // sms_transport is no channel of ours: the message is the default channel's
      channel: "LOG",
      transport_name: "sms_transport",
      transport_type: "sms",
      helper_metadata: { go: { conversation_key: "abc" }, session_event: "new" },
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const again = await send(svc, "POST", "/api/v1/inbound/", message);
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(inbound.id);
    // transport_name names the channel when it is one
    const named = await send(svc, "POST", "/api/v1/inbound/", vumiMessage({ transport_name: "LOG" }));
    expect(named.json()).toMatchObject({ channel: "LOG", transport_name: "LOG" });
    const misspelt = await send(svc, "POST", "/api/v1/inbound/", { ...message, helper_metdata: {} });
    expect(misspelt.statusCode).toBe(400);
  });

  it("takes a channel's Vumi and Junebug messages at /api/v1/inbound/{channel_id}/, STOP included", async ({
    svc,
  }) => {
    const vumi = vumiMessage({ content: "stop" });
    const fromVumi = await send(svc, "POST", "/api/v1/inbound/LOG/", vumi);
    expect(fromVumi.statusCode, fromVumi.body).toBe(201);
    expect(fromVumi.json()).toMatchObject({
      channel: "LOG",
      transport_name: "sms_transport",
      keyword: "stop",
    });

    const junebug = {
      message_id: randomUUID(),
      channel_id: "0170b7f2-1fa6-4a6a-8a1d-4e2b1e6b5c0a",
      from: msisdn(),
      to: "+27820001001",
      group: null,
      reply_to: "vumi-out-7",
      timestamp: "2026-01-01 10:00:00.123456",
      content: "STOP",
      channel_data: { session_event: "close", whatsapp: { name: "Mom" } },
    };
    const fromJunebug = await send(svc, "POST", "/api/v1/inbound/LOG/", junebug);
    expect(fromJunebug.statusCode, fromJunebug.body).toBe(201);
    const stored = fromJunebug.json();
    expect(stored).toMatchObject({
      channel: "LOG",
      message_id: junebug.message_id,
      in_reply_to: "vumi-out-7",
      to_addr: "+27820001001",
      from_addr: junebug.from,
      content: "STOP",
      keyword: "stop",
      transport_name: junebug.channel_id,
      transport_type: null,
      helper_metadata: { session_event: "close", whatsapp: { name: "Mom" } },
    });
    // announced like every inbound: a STOP opts the sender's address out
    const announced = await svc.db.outboxMessage.findUniqueOrThrow({ where: { id: stored.id } });
    expect(announced).toMatchObject({ name: "inbound.received" });
    expect(announced.payload).toMatchObject({ keyword: "stop", from_addr: junebug.from });

    const unknown = await send(svc, "POST", "/api/v1/inbound/NOPE/", junebug);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ detail: "Not found." });
    const neither = await send(svc, "POST", "/api/v1/inbound/LOG/", { content: "hi" });
    expect(neither.statusCode).toBe(400);
  });

  it("filters on Seed's inbound fields, in Seed's ordering", async ({ svc }) => {
    const store = async (overrides: Record<string, unknown>) => {
      const res = await send(svc, "POST", "/api/v1/inbound/", vumiMessage(overrides));
      expect(res.statusCode, res.body).toBe(201);
      return res.json();
    };
    const tag = randomUUID().slice(0, 8);
    const a = await store({ to_addr: `to-${tag}`, content: `a ${tag}`, transport_type: `ussd-${tag}` });
    const b = await store({ to_addr: `to-${tag}`, content: `b ${tag}`, in_reply_to: `out-${tag}` });
    await svc.db.inbound.update({
      where: { id: a.id },
      data: { createdAt: new Date("2031-02-01T00:00:00Z") },
    });
    await svc.db.inbound.update({
      where: { id: b.id },
      data: { createdAt: new Date("2031-02-02T00:00:00Z") },
    });
    const list = (query: string) => ids(svc, `/api/v1/inbound/?to_addr=to-${tag}&${query}`);
    expect(await list(`message_id=${a.message_id}`)).toEqual([a.id]);
    expect(await list(`in_reply_to=out-${tag}`)).toEqual([b.id]);
    expect(await list(`content=${encodeURIComponent(`a ${tag}`)}`)).toEqual([a.id]);
    expect(await list(`transport_type=ussd-${tag}`)).toEqual([a.id]);
    expect(await list("transport_name=sms_transport")).toEqual([b.id, a.id]);
    expect(await list("transport_name=other")).toEqual([]);
    expect(
      await list(`from_addr=${encodeURIComponent(a.from_addr)}&from_addr=${encodeURIComponent(b.from_addr)}`),
    ).toEqual([b.id, a.id]);
    expect(await list("created_at=2031-02-01T00:00:00")).toEqual([a.id]);
    expect(await list("created_at__gt=2031-02-01T00:00:00Z")).toEqual([b.id]);
    expect(await list("created_at__lte=2031-02-01T00:00:00Z")).toEqual([a.id]);
    expect(await list("updated_at__gte=2020-01-01T00:00:00Z&ordering=created_at")).toEqual([a.id, b.id]);
    expect(await list("ordering=-created_at")).toEqual([b.id, a.id]);
  });
});
