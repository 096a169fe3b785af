import {
  adminAuth,
  type HttpReceiver,
  startHttpReceiver,
  startTestService,
  type TestService,
  waitFor,
} from "@tidings/testing";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { MessageSenderConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { DEFAULT_KEYWORDS, receiveInbound } from "../src/inbound/inbound.ts";
import { PermanentSendError } from "../src/outbound/channel.ts";
import { reportFinal } from "../src/outbound/status.ts";
import { createMessageSenderService } from "../src/service.ts";
import { address, identityEvent, msisdn } from "./helpers.ts";

// Message-sender's REST hooks (Seed's `outbound.delivery_report` and `identity.no_address`, and
// `outbound.failed` and `inbound.received`), delivered by its worker to a local receiver.

let svc: TestService<MessageSenderConfig, Db>;
let receiver: HttpReceiver;
let base: string;
/** Sends through FLAKY fail this many times with a passing error before they are delivered. */
let flakyFailures = 0;

beforeAll(async () => {
  receiver = await startHttpReceiver();
  base = receiver.url;
  svc = await startTestService(
    createMessageSenderService({
      channels: () => ({
        OK: { send: async () => ({ providerId: null, delivered: true }) },
        REJECT: {
          send: async () => {
            throw new PermanentSendError("invalid number", 21211);
          },
        },
        FLAKY: {
          send: async () => {
            if (flakyFailures > 0) {
              flakyFailures -= 1;
              throw new Error("provider unavailable");
            }
            return { providerId: null, delivered: true };
          },
        },
        REPORTED: { send: async (outbound) => ({ providerId: `p-${outbound.id}`, delivered: false }) },
      }),
    }),
    {
      worker: true,
      env: {
        HOOK_AUTH_TOKEN: "hook-token-123",
        HOOK_POLL_INTERVAL_MS: "20",
        OUTBOUND_RETRY_DELAYS_MS: "50,50,50,50",
      },
    },
  );
  for (const event of [
    "outbound.delivery_report",
    "outbound.failed",
    "inbound.received",
    "identity.no_address",
  ]) {
    const res = await call("POST", "/api/v1/webhook/", { event, target: `${base}/${event}` });
    expect(res.statusCode).toBe(201);
    secrets.set(event, res.json().secret);
  }
});
afterAll(async () => {
  await svc?.close();
  await receiver?.close();
});
beforeEach(() => {
  flakyFailures = 0;
});

const secrets = new Map<string, string>();

const call = (method: "GET" | "POST", url: string, payload?: object) =>
  svc.app.inject({ method, url, headers: adminAuth, ...(payload ? { payload } : {}) });

interface Envelope<D> {
  hook: { id: number; event: string; target: string };
  data: D;
}

/** The deliveries of `event` whose data matches `match`, each checked as a Standard Webhooks receiver does. */
function deliveriesOf<D>(event: string, match: (data: D) => boolean): Envelope<D>[] {
  return receiver.received
    .filter((r) => r.path === `/${event}`)
    .map((r) => {
      expect(r.headers.authorization).toBe("Token hook-token-123");
      expect(r.headers["x-tidings-event"]).toBe(event);
      const secret = secrets.get(event) as string;
      expect(new Webhook(secret).verify(r.body, r.headers as Record<string, string>)).toEqual(
        JSON.parse(r.body),
      );
      return JSON.parse(r.body) as Envelope<D>;
    })
    .filter((body) => match(body.data));
}

const waitForDelivery = <D>(event: string, match: (data: D) => boolean) =>
  waitFor(() => deliveriesOf(event, match)[0], { what: `the ${event} hook` });

interface Report {
  outbound_id: string;
  delivered: boolean;
  to_addr: string;
  identity: string | null;
}
const reportsFor = (id: string) =>
  deliveriesOf<Report>("outbound.delivery_report", (d) => d.outbound_id === id);

async function send(body: object): Promise<string> {
  const res = await call("POST", "/api/v1/outbound/", { content: "hi", metadata: {}, ...body });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

const finalStatus = (id: string) =>
  waitFor(
    async () => {
      const outbound = (await call("GET", `/api/v1/outbound/${id}/`)).json();
      return !["queued", "submitted"].includes(outbound.status) && outbound;
    },
    { what: `outbound ${id} final` },
  );

describe("message-sender's REST hooks", () => {
  it("offers its four events at /api/v1/webhook/ and refuses others", async () => {
    const res = await call("POST", "/api/v1/webhook/", { event: "identity.created", target: `${base}/x` });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("MESSAGE_SENDER_HOOK_UNKNOWN_EVENT");
  });

  it("outbound.delivery_report on delivery: Seed's envelope, signed, to_addr wiped as Seed did", async () => {
    const to = msisdn();
    const id = await send({ to_addr: to, channel: "OK" });
    const report = await waitForDelivery<Report>("outbound.delivery_report", (d) => d.outbound_id === id);
    expect(report.hook).toEqual({
      id: expect.any(Number),
      event: "outbound.delivery_report",
      target: `${base}/outbound.delivery_report`,
    });
    expect(report.data).toEqual({ outbound_id: id, delivered: true, to_addr: "", identity: null });
    expect(deliveriesOf("outbound.failed", (d: { id: string }) => d.id === id)).toEqual([]);
  });

  it("outbound.delivery_report and outbound.failed when the provider refuses for good, with the address", async () => {
    const to = msisdn();
    const id = await send({ to_addr: to, channel: "REJECT" });
    const report = await waitForDelivery<Report>("outbound.delivery_report", (d) => d.outbound_id === id);
    expect(report.data).toEqual({ outbound_id: id, delivered: false, to_addr: to, identity: null });
    const failed = await waitForDelivery<{ id: string }>("outbound.failed", (d) => d.id === id);
    expect(failed).toEqual({
      hook: { id: expect.any(Number), event: "outbound.failed", target: `${base}/outbound.failed` },
      data: {
        id,
        status: "failed",
        to_identity: null,
        channel: "REJECT",
        provider_id: null,
        reason: "invalid number",
        attempts: 0,
        at: expect.any(String),
      },
    });
    expect((await finalStatus(id)).to_addr).toBe("");
  });

  it("from a provider's report (the single-statement path): failed with the address, delivered without", async () => {
    const failedTo = msisdn();
    const failedId = await send({ to_addr: failedTo, channel: "REPORTED" });
    const deliveredId = await send({ to_addr: msisdn(), channel: "REPORTED" });
    for (const id of [failedId, deliveredId]) {
      await waitFor(
        async () => (await call("GET", `/api/v1/outbound/${id}/`)).json().status === "submitted",
        {
          what: "submitted",
        },
      );
    }
    expect(await reportFinal(svc.db, "REPORTED", `p-${failedId}`, false, "undeliverable")).toBe("applied");
    expect(await reportFinal(svc.db, "REPORTED", `p-${deliveredId}`, true, null)).toBe("applied");
    // A replayed report changes nothing, and publishes nothing.
    expect(await reportFinal(svc.db, "REPORTED", `p-${failedId}`, false, "undeliverable")).toBe("unchanged");
    const failed = await waitForDelivery<Report>(
      "outbound.delivery_report",
      (d) => d.outbound_id === failedId,
    );
    expect(failed.data).toEqual({
      outbound_id: failedId,
      delivered: false,
      to_addr: failedTo,
      identity: null,
    });
    const delivered = await waitForDelivery<Report>(
      "outbound.delivery_report",
      (d) => d.outbound_id === deliveredId,
    );
    expect(delivered.data).toEqual({
      outbound_id: deliveredId,
      delivered: true,
      to_addr: "",
      identity: null,
    });
    expect(
      (await waitForDelivery<{ id: string }>("outbound.failed", (d) => d.id === failedId)).data,
    ).toMatchObject({ status: "failed", reason: "undeliverable", provider_id: `p-${failedId}`, attempts: 1 });
    const pending = await svc.db.$queryRawUnsafe<{ n: number }[]>(
      "SELECT count(*)::int AS n FROM tidings_hook_delivery WHERE body LIKE $1",
      `%${failedId}%`,
    );
    expect(pending[0]?.n).toBe(2); // one delivery report and one outbound.failed: not again for the replay
  });

  it("nothing for a passing failure that is retried: one delivery report, once delivered", async () => {
    flakyFailures = 2;
    const id = await send({ to_addr: msisdn(), channel: "FLAKY" });
    expect(await finalStatus(id)).toMatchObject({ status: "delivered" });
    await waitForDelivery<Report>("outbound.delivery_report", (d) => d.outbound_id === id);
    expect(reportsFor(id).map((r) => r.data.delivered)).toEqual([true]);
    expect(deliveriesOf("outbound.failed", (d: { id: string }) => d.id === id)).toEqual([]);
  });

  it("identity.no_address (Seed's {to_identity}) for an identity with no address to send to", async () => {
    const identity = identityEvent([address("msisdn", msisdn(), { default: true, inactive: true })]);
    await svc.broker.publish("identity.created", identity);
    await waitFor(() => svc.db.addressBookEntry.findUnique({ where: { identity: identity.id } }), {
      what: "the address book entry",
    });
    const id = await send({ to_identity: identity.id, channel: "OK" });
    const hook = await waitForDelivery<{ to_identity: string }>(
      "identity.no_address",
      (d) => d.to_identity === identity.id,
    );
    expect(hook).toEqual({
      hook: { id: expect.any(Number), event: "identity.no_address", target: `${base}/identity.no_address` },
      data: { to_identity: identity.id },
    });
    expect(await finalStatus(id)).toMatchObject({ status: "failed", last_error: "no address" });
  });

  it("inbound.received with Seed's inbound fields", async () => {
    const from = msisdn();
    const { inbound } = await receiveInbound(
      { db: svc.db, keywords: DEFAULT_KEYWORDS },
      {
        channel: "OK",
        messageId: `m-${from}`,
        inReplyTo: null,
        fromAddr: from,
        toAddr: "+15005550006",
        content: "HELP",
        helperMetadata: { session_event: "new" },
      },
      console,
    );
    const hook = await waitForDelivery<{ id: string }>("inbound.received", (d) => d.id === inbound.id);
    expect(hook.data).toEqual({
      id: inbound.id,
      message_id: `m-${from}`,
      in_reply_to: null,
      to_addr: "+15005550006",
      from_addr: from,
      from_identity: null,
      content: "HELP",
      transport_name: "OK",
      transport_type: null,
      helper_metadata: { session_event: "new" },
      created_at: inbound.created_at,
      updated_at: inbound.created_at,
      channel: "OK",
      keyword: "help",
      reply_to_outbound: null,
    });
  });
});
