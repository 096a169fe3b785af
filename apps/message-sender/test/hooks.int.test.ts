import { expectError, type HttpReceiver, serviceTest, waitFor } from "@tidings/testing";
import { Webhook } from "standardwebhooks";
import { beforeEach, describe, expect } from "vitest";
import { receiveInbound } from "../src/inbound/inbound.ts";
import { DEFAULT_KEYWORDS } from "../src/inbound/keywords.ts";
import { PermanentSendError } from "../src/outbound/channel.ts";
import { reportFinal } from "../src/outbound/status.ts";
import { createMessageSenderService } from "../src/service.ts";
import { address, identityEvent, msisdn } from "./helpers.ts";
import { call, type Svc } from "./support.ts";

// Message-sender's REST hooks (Seed's `outbound.delivery_report` and `identity.no_address`, and
// `outbound.failed` and `inbound.received`), delivered by its worker to a local receiver.

/** The signing secret of each event's webhook. */
const secrets = new Map<string, string>();

/** Sends through FLAKY fail this many times with a passing error before they are delivered. */
let flakyFailures = 0;

const it = serviceTest(
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
).extend<{ hooks: undefined }>({
  /** The file's webhooks, one per event, on the receiver: registered before its first test. */
  hooks: [
    async ({ svc, receiver }, use) => {
      for (const event of [
        "outbound.delivery_report",
        "outbound.failed",
        "inbound.received",
        "identity.no_address",
      ]) {
        const res = await call(svc, "POST", "/api/v1/webhook/", {
          event,
          target: `${receiver.url}/${event}`,
        });
        expect(res.statusCode).toBe(201);
        secrets.set(event, res.json().secret);
      }
      await use(undefined);
    },
    { scope: "file", auto: true },
  ],
});
beforeEach(() => {
  flakyFailures = 0;
});

interface Envelope<D> {
  hook: { id: number; event: string; target: string };
  data: D;
}

/** The deliveries of `event` whose data matches `match`, each checked as a Standard Webhooks receiver does. */
function deliveriesOf<D>(receiver: HttpReceiver, event: string, match: (data: D) => boolean): Envelope<D>[] {
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

const waitForDelivery = <D>(receiver: HttpReceiver, event: string, match: (data: D) => boolean) =>
  waitFor(() => deliveriesOf(receiver, event, match)[0], { what: `the ${event} hook` });

/** The outbound.delivery_report hook delivery about outbound `id`, once it arrived. */
const reportOf = (receiver: HttpReceiver, id: string) =>
  waitForDelivery<Report>(receiver, "outbound.delivery_report", (d) => d.outbound_id === id);

interface Report {
  outbound_id: string;
  delivered: boolean;
  to_addr: string;
  identity: string | null;
}
const reportsFor = (receiver: HttpReceiver, id: string) =>
  deliveriesOf<Report>(receiver, "outbound.delivery_report", (d) => d.outbound_id === id);

async function send(svc: Svc, body: object): Promise<string> {
  const res = await call(svc, "POST", "/api/v1/outbound/", { content: "hi", metadata: {}, ...body });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

/** Sends `body` (as `send`) and waits for its outbound.delivery_report hook delivery: its id and that delivery. */
async function sendReported(svc: Svc, receiver: HttpReceiver, body: object) {
  const id = await send(svc, body);
  return { id, report: await reportOf(receiver, id) };
}

/** The `hook` of a delivery of `event` to its webhook on the receiver, as its envelope names it. */
const hookOn = (receiver: HttpReceiver, event: string) => ({
  id: expect.any(Number),
  event,
  target: `${receiver.url}/${event}`,
});

const finalStatus = (svc: Svc, id: string) =>
  waitFor(
    async () => {
      const outbound = (await call(svc, "GET", `/api/v1/outbound/${id}/`)).json();
      return !["queued", "submitted"].includes(outbound.status) && outbound;
    },
    { what: `outbound ${id} final` },
  );

describe("message-sender's REST hooks", () => {
  it("offers its four events at /api/v1/webhook/ and refuses others", async ({ svc, receiver }) => {
    const res = await call(svc, "POST", "/api/v1/webhook/", {
      event: "identity.created",
      target: `${receiver.url}/x`,
    });
    expectError(res, 400, "MESSAGE_SENDER_HOOK_UNKNOWN_EVENT");
  });

  it("outbound.delivery_report on delivery: Seed's envelope, signed, to_addr wiped as Seed did", async ({
    svc,
    receiver,
  }) => {
    const { id, report } = await sendReported(svc, receiver, { to_addr: msisdn(), channel: "OK" });
    expect(report.hook).toEqual(hookOn(receiver, "outbound.delivery_report"));
    expect(report.data).toEqual({ outbound_id: id, delivered: true, to_addr: "", identity: null });
    expect(deliveriesOf(receiver, "outbound.failed", (d: { id: string }) => d.id === id)).toEqual([]);
  });

  it("outbound.delivery_report and outbound.failed when the provider refuses for good, with the address", async ({
    svc,
    receiver,
  }) => {
    const to = msisdn();
    const { id, report } = await sendReported(svc, receiver, { to_addr: to, channel: "REJECT" });
    expect(report.data).toEqual({ outbound_id: id, delivered: false, to_addr: to, identity: null });
    const failed = await waitForDelivery<{ id: string }>(receiver, "outbound.failed", (d) => d.id === id);
    expect(failed).toEqual({
      hook: hookOn(receiver, "outbound.failed"),
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
    expect((await finalStatus(svc, id)).to_addr).toBe("");
  });

  it("from a provider's report (the single-statement path): failed with the address, delivered without", async ({
    svc,
    receiver,
  }) => {
    const failedTo = msisdn();
    const failedId = await send(svc, { to_addr: failedTo, channel: "REPORTED" });
    const deliveredId = await send(svc, { to_addr: msisdn(), channel: "REPORTED" });
    for (const id of [failedId, deliveredId]) {
      await waitFor(
        async () => (await call(svc, "GET", `/api/v1/outbound/${id}/`)).json().status === "submitted",
        {
          what: "submitted",
        },
      );
    }
    expect(await reportFinal(svc.db, "REPORTED", `p-${failedId}`, false, "undeliverable")).toBe("applied");
    expect(await reportFinal(svc.db, "REPORTED", `p-${deliveredId}`, true, null)).toBe("applied");
    // A replayed report changes nothing, and publishes nothing.
    expect(await reportFinal(svc.db, "REPORTED", `p-${failedId}`, false, "undeliverable")).toBe("unchanged");
    const failed = await reportOf(receiver, failedId);
    expect(failed.data).toEqual({
      outbound_id: failedId,
      delivered: false,
      to_addr: failedTo,
      identity: null,
    });
    const delivered = await reportOf(receiver, deliveredId);
    expect(delivered.data).toEqual({
      outbound_id: deliveredId,
      delivered: true,
      to_addr: "",
      identity: null,
    });
    expect(
      (await waitForDelivery<{ id: string }>(receiver, "outbound.failed", (d) => d.id === failedId)).data,
    ).toMatchObject({ status: "failed", reason: "undeliverable", provider_id: `p-${failedId}`, attempts: 1 });
    const pending = await svc.db.$queryRawUnsafe<{ n: number }[]>(
      "SELECT count(*)::int AS n FROM tidings_hook_delivery WHERE body LIKE $1",
      `%${failedId}%`,
    );
    expect(pending[0]?.n).toBe(2); // one delivery report and one outbound.failed: not again for the replay
  });

  it("nothing for a passing failure that is retried: one delivery report, once delivered", async ({
    svc,
    receiver,
  }) => {
    flakyFailures = 2;
    const id = await send(svc, { to_addr: msisdn(), channel: "FLAKY" });
    expect(await finalStatus(svc, id)).toMatchObject({ status: "delivered" });
    await reportOf(receiver, id);
    expect(reportsFor(receiver, id).map((r) => r.data.delivered)).toEqual([true]);
    expect(deliveriesOf(receiver, "outbound.failed", (d: { id: string }) => d.id === id)).toEqual([]);
  });

  it("identity.no_address (Seed's {to_identity}) for an identity with no address to send to", async ({
    svc,
    receiver,
  }) => {
    const identity = identityEvent([address("msisdn", msisdn(), { default: true, inactive: true })]);
    await svc.broker.publish("identity.created", identity);
    await waitFor(() => svc.db.addressBookEntry.findUnique({ where: { identity: identity.id } }), {
      what: "the address book entry",
    });
    const id = await send(svc, { to_identity: identity.id, channel: "OK" });
    const hook = await waitForDelivery<{ to_identity: string }>(
      receiver,
      "identity.no_address",
      (d) => d.to_identity === identity.id,
    );
    expect(hook).toEqual({
      hook: hookOn(receiver, "identity.no_address"),
      data: { to_identity: identity.id },
    });
    expect(await finalStatus(svc, id)).toMatchObject({ status: "failed", last_error: "no address" });
  });

  it("inbound.received with Seed's inbound fields", async ({ svc, receiver }) => {
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
    const hook = await waitForDelivery<{ id: string }>(
      receiver,
      "inbound.received",
      (d) => d.id === inbound.id,
    );
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
