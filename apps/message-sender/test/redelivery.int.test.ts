/**
 * The redelivery policy on the provider simulators: failed delivery reports retried as new attempts of the same
 * outbound (or final), counted once; late reports of earlier attempts; the no-report timeout.
 */
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { catalog, type OutboundStatusChanged } from "@tidings/contracts";
import {
  startTwilioSimulator,
  startVonageSimulator,
  type TwilioSimulator,
  type VonageSimulator,
} from "@tidings/provider-simulators";
import { adminAuth, type Capture, serviceTest, type TestService, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import type { MessageSenderConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { createMessageSenderService } from "../src/service.ts";
import {
  createTwilioChannel,
  historyOf,
  msisdn,
  outboundReaching,
  retryDeferredByWindow,
} from "./helpers.ts";
import { reportsOf, sendVia } from "./support.ts";

const SID = `AC${"6".repeat(32)}`;
const TOKEN = "redelivery-auth-token";
const KEY = "redeliverykey";
const SECRET = "vonage-api-secret";
const SIG_SECRET = "vonage-signature-secret";

type Svc = TestService<MessageSenderConfig, Db>;
interface Sims {
  twilio: TwilioSimulator;
  vonage: VonageSimulator;
}

const it = serviceTest(
  createMessageSenderService({
    // A transport that accepts messages and reports on them later, as Vumi does (a new id per attempt).
    channels: () => ({
      VUMI: { send: async () => ({ providerId: `vumi-${randomUUID()}`, delivered: false }) },
    }),
  }),
  {
    worker: true,
    env: {
      RECONCILE_INTERVAL_MS: "200",
      RECONCILE_AFTER_MS: "300",
      DUE_POLL_INTERVAL_MS: "100",
      CHANNEL_CACHE_TTL_MS: "100",
      // The default policy (VUMI, given in code, has no row of its own): retries a second apart.
      REDELIVERY_BACKOFF_SECONDS: "1",
    },
  },
  ["outbound.delivery_report", "outbound.failed"],
).extend<{ sims: Sims }>({
  sims: [
    async ({ svc }, use) => {
      const twilio = await startTwilioSimulator({ accounts: { [SID]: TOKEN }, callbackIntervalMs: 10 });
      const vonage = await startVonageSimulator({
        accounts: { [KEY]: SECRET },
        signatureSecret: SIG_SECRET,
        callbackIntervalMs: 10,
      });
      await svc.app.listen({ port: 0, host: "127.0.0.1" });
      const base = `http://127.0.0.1:${(svc.app.server.address() as AddressInfo).port}`;
      const account = { sid: SID, token: TOKEN, url: twilio.url };
      const redelivery = (policy: object) => ({ redelivery: { backoff_seconds: [1], ...policy } });
      // TW: callbacks, retries a second apart; TW_WAIT and TW_NIGHT (given quiet hours by a test): 3 s apart;
      // TW_QUIET: no callbacks, a 2 s no-report timeout.
      await createTwilioChannel(svc.app, "TW", account, { status_callback: base }, redelivery({}));
      for (const channel of ["TW_WAIT", "TW_NIGHT"]) {
        const callbacks = { status_callback: base };
        await createTwilioChannel(svc.app, channel, account, callbacks, redelivery({ backoff_seconds: [3] }));
      }
      await createTwilioChannel(
        svc.app,
        "TW_QUIET",
        account,
        {},
        redelivery({ no_report_timeout_seconds: 2 }),
      );
      const res = await svc.app.inject({
        method: "POST",
        url: "/api/v1/channel/",
        headers: adminAuth,
        payload: {
          channel_id: "VON",
          channel_type: "vonage",
          configuration: {
            api_key: KEY,
            api_secret: SECRET,
            from: "Tidings",
            signature_secret: SIG_SECRET,
            rest_url: vonage.url,
            status_callback: base,
          },
          ...redelivery({ no_report_timeout_seconds: 2 }),
        },
      });
      expect(res.statusCode, res.body).toBe(201);
      await use({ twilio, vonage });
      await twilio.close();
      await vonage.close();
    },
    { scope: "file", auto: true },
  ],
});

const send = (svc: Svc, channel: string, to = msisdn(), extra: object = {}) =>
  sendVia(svc, channel, to, { content: "Clinic visit on Tuesday", ...extra });

const history = (svc: Svc, id: string) => historyOf(svc.db, id);

const failuresOf = (capture: Capture, id: string) =>
  capture.named<OutboundStatusChanged>("outbound.failed").filter((f) => f.id === id);

describe("redelivery after a failed delivery report", () => {
  it("retries a transient failure as another attempt of the same outbound, then it is delivered", async ({
    svc,
    sims,
    capture,
  }) => {
    const to = msisdn();
    sims.twilio.script(to, [{ status: "undelivered", errorCode: 30003 }, { status: "delivered" }]);
    const id = await send(svc, "TW", to);
    const delivered = await outboundReaching(svc.db, id, "delivered");
    const sent = sims.twilio.messages.filter((m) => m.to === to);
    expect(sent).toHaveLength(2);
    expect(delivered).toMatchObject({ attempts: 2, providerId: sent[1]!.sid, delivered: true, toAddr: "" });
    const steps = await history(svc, id);
    expect(steps.map((s) => s.status)).toEqual(["submitted", "queued", "submitted", "delivered"]);
    // The retry keeps the failed attempt's provider id and reason, and waited out the channel's backoff (1 s).
    expect(steps[1]).toMatchObject({
      channel: "TW",
      provider_id: sent[0]!.sid,
      reason: "twilio undelivered (error 30003)",
    });
    expect(Date.parse(steps[2]!.at) - Date.parse(steps[1]!.at)).toBeGreaterThanOrEqual(900);
    await waitFor(() => reportsOf(capture, id).length > 0, { what: "the delivery report" });
    expect(reportsOf(capture, id)).toEqual([
      expect.objectContaining({ delivered: true, status: "delivered" }),
    ]);
    expect(failuresOf(capture, id)).toEqual([]);
  });

  it("does not retry a permanent failure", async ({ svc, sims, capture }) => {
    const to = msisdn();
    sims.twilio.script(to, [{ status: "undelivered", errorCode: 30005 }]);
    const id = await send(svc, "TW", to);
    expect(await outboundReaching(svc.db, id, "failed")).toMatchObject({
      attempts: 1,
      lastError: "twilio undelivered (error 30005)",
    });
    await waitFor(() => reportsOf(capture, id).length > 0, { what: "the delivery report" });
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // longer than the channel's backoff
    expect(sims.twilio.requests.filter((r) => r.To === to)).toHaveLength(1);
    expect(reportsOf(capture, id)).toEqual([expect.objectContaining({ delivered: false, status: "failed" })]);
  });

  it("counts three failed attempts in a row once: one failed delivery report", async ({
    svc,
    sims,
    capture,
  }) => {
    const to = msisdn();
    const unreachable = { status: "undelivered", errorCode: 30003 } as const;
    sims.twilio.script(to, [unreachable, unreachable, unreachable]);
    const id = await send(svc, "TW", to);
    expect(await outboundReaching(svc.db, id, "failed")).toMatchObject({ attempts: 3, toAddr: "" });
    expect((await history(svc, id)).map((s) => s.status)).toEqual([
      "submitted",
      "queued",
      "submitted",
      "queued",
      "submitted",
      "failed",
    ]);
    const sids = sims.twilio.messages.filter((m) => m.to === to).map((m) => m.sid);
    expect(sids).toHaveLength(3);
    const past = await svc.db.outboundPastAttempt.findMany({ where: { outboundId: id } });
    expect(past.map((p) => p.providerId).sort()).toEqual(sids.slice(0, 2).sort());
    await waitFor(() => failuresOf(capture, id).length > 0, { what: "outbound.failed" });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(reportsOf(capture, id)).toEqual([
      expect.objectContaining({ delivered: false, status: "failed", identity: null }),
    ]);
    expect(failuresOf(capture, id)).toHaveLength(1);
  });

  it("never lets a late report of an earlier attempt finish the current one", async ({ svc, sims }) => {
    const to = msisdn();
    sims.twilio.script(to, [{ status: "failed", errorCode: 30008 }, "none"]);
    const id = await send(svc, "TW", to);
    await waitFor(async () => sims.twilio.messages.filter((m) => m.to === to).length === 2, {
      what: "the second attempt",
    });
    const [first, second] = sims.twilio.messages.filter((m) => m.to === to);
    await waitFor(
      async () => (await svc.db.outbound.findUniqueOrThrow({ where: { id } })).providerId === second!.sid,
      { what: "the second attempt recorded" },
    );
    // Twilio replays the first attempt's failure, then (oddly) reports it delivered: neither touches attempt two.
    expect(await sims.twilio.sendStatus(first!.sid, "failed", 30008)).toBe(200);
    expect(await sims.twilio.sendStatus(first!.sid, "delivered")).toBe(200);
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id } })).toMatchObject({
      status: "submitted",
      providerId: second!.sid,
      attempts: 2,
    });
    // The history keeps the news (the person got the first attempt after all), not the replay of its failure.
    const late = (await history(svc, id)).filter((s) => s.reason?.startsWith("late report"));
    expect(late).toEqual([
      expect.objectContaining({
        status: "delivered",
        provider_id: first!.sid,
        reason: "late report of an earlier attempt",
      }),
    ]);
    expect(await svc.db.earlyReport.count({ where: { providerId: first!.sid } })).toBe(0);
    expect(await sims.twilio.sendStatus(second!.sid, "delivered")).toBe(200);
    expect(await outboundReaching(svc.db, id, "delivered")).toMatchObject({ attempts: 2 });
  });

  it("ends retries when the recipient opts out between attempts", async ({ svc, sims, capture }) => {
    const to = msisdn();
    sims.twilio.script(to, [{ status: "undelivered", errorCode: 30003 }]);
    const id = await send(svc, "TW_WAIT", to);
    await waitFor(async () => (await history(svc, id)).some((s) => s.status === "queued"), {
      what: "the retry to be planned",
    });
    await svc.broker.publish("optout.created", {
      ...catalog["optout.created"].example,
      id: randomUUID(),
      created_at: new Date().toISOString(),
      optout_type: "stop",
      address: to,
    });
    expect(await outboundReaching(svc.db, id, "failed")).toMatchObject({
      lastError: "opted_out",
      attempts: 1,
    });
    expect(sims.twilio.requests.filter((r) => r.To === to)).toHaveLength(1);
    expect(reportsOf(capture, id)).toEqual([]);
  });

  it("holds a retry that falls in quiet hours until the sending window opens", async ({ svc, sims }) => {
    const to = msisdn();
    sims.twilio.script(to, [{ status: "undelivered", errorCode: 30003 }]);
    const id = await send(svc, "TW_NIGHT", to);
    await waitFor(async () => (await history(svc, id)).some((s) => s.status === "queued"), {
      what: "the retry to be planned",
    });
    // Quiet hours begin before the retry is due: a window two to three hours ahead, in the recipient's zone.
    const deferred = await retryDeferredByWindow(svc, "TW_NIGHT", "Africa/Johannesburg", id);
    expect(deferred).toMatchObject({ status: "queued", attempts: 1 });
    expect(sims.twilio.requests.filter((r) => r.To === to)).toHaveLength(1);
  });

  it("makes a failure final when the next attempt would come after expires_at", async ({
    svc,
    sims,
    capture,
  }) => {
    const to = msisdn();
    sims.twilio.script(to, [{ status: "undelivered", errorCode: 30003 }]);
    const id = await send(svc, "TW_WAIT", to, { ttl_seconds: 2 });
    expect(await outboundReaching(svc.db, id, "failed")).toMatchObject({ attempts: 1 });
    await waitFor(() => reportsOf(capture, id).length === 1, { what: "one failed delivery report" });
  });

  it("retries Vonage's temporary err-codes and not its permanent ones", async ({ svc, sims }) => {
    const [retried, barred] = [msisdn(), msisdn()];
    sims.vonage.script(retried, [{ status: "failed", errCode: "2" }, { status: "delivered" }]);
    sims.vonage.script(barred, [{ status: "rejected", errCode: "9" }]);
    const [retriedId, barredId] = [await send(svc, "VON", retried), await send(svc, "VON", barred)];
    expect(await outboundReaching(svc.db, retriedId, "delivered")).toMatchObject({ attempts: 2 });
    expect(await outboundReaching(svc.db, barredId, "failed")).toMatchObject({
      attempts: 1,
      lastError: "vonage rejected (error 9)",
    });
  });
});

describe("Seed's Vumi events", () => {
  it("retries a nack under the default policy; a late event for the earlier attempt changes nothing", async ({
    svc,
  }) => {
    const id = await send(svc, "VUMI");
    const attempt = async (n: number) =>
      waitFor(
        async () => {
          const row = await svc.db.outbound.findUniqueOrThrow({ where: { id } });
          return row.status === "submitted" && row.attempts === n && (row.providerId as string);
        },
        { what: `attempt ${n} submitted` },
      );
    const event = async (body: object) =>
      (
        await svc.app.inject({
          method: "POST",
          url: "/api/v1/events",
          headers: adminAuth,
          payload: { message_type: "event", ...body },
        })
      ).json();
    const first = await attempt(1);
    expect(
      await event({ event_type: "nack", user_message_id: first, nack_reason: "no route" }),
    ).toMatchObject({
      accepted: true,
    });
    const second = await attempt(2);
    expect(second).not.toBe(first);
    await event({ event_type: "delivery_report", user_message_id: first, delivery_status: "delivered" });
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id } })).toMatchObject({ status: "submitted" });
    await event({ event_type: "delivery_report", user_message_id: second, delivery_status: "delivered" });
    expect(await outboundReaching(svc.db, id, "delivered")).toMatchObject({
      attempts: 2,
      providerId: second,
    });
  });
});

describe("a redacted outbound", () => {
  it("is never tried again: a retryable failure after the redaction is final", async ({ svc }) => {
    const id = await send(svc, "VUMI");
    const providerId = await waitFor(
      async () => {
        const row = await svc.db.outbound.findUniqueOrThrow({ where: { id } });
        return row.status === "submitted" && (row.providerId as string);
      },
      { what: "submitted" },
    );
    const redacted = await svc.app.inject({
      method: "DELETE",
      url: `/api/v1/outbound/${id}/`,
      headers: adminAuth,
    });
    expect(redacted.statusCode, redacted.body).toBe(204);
    const nack = await svc.app.inject({
      method: "POST",
      url: "/api/v1/events",
      headers: adminAuth,
      payload: {
        message_type: "event",
        event_type: "nack",
        user_message_id: providerId,
        nack_reason: "no route",
      },
    });
    expect(nack.json()).toMatchObject({ accepted: true });
    expect(await outboundReaching(svc.db, id, "failed")).toMatchObject({
      attempts: 1,
      content: null,
      providerId,
    });
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // past the policy's 1 s backoff
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id } })).toMatchObject({
      status: "failed",
      attempts: 1,
    });
  });
});

describe("the no-report timeout", () => {
  it("asks Twilio, then fails a message still not final with no_report, not counted", async ({
    svc,
    sims,
    capture,
  }) => {
    const [silent, lost] = [msisdn(), msisdn()];
    sims.twilio.script(silent, ["none"]);
    sims.twilio.script(lost, [{ status: "undelivered", errorCode: 30006 }]);
    const [silentId, lostId] = [await send(svc, "TW_QUIET", silent), await send(svc, "TW_QUIET", lost)];
    // No callbacks on TW_QUIET: the lookup finds the landline's failure; the silent one is asked, then timed out.
    expect(await outboundReaching(svc.db, lostId, "failed")).toMatchObject({
      lastError: "twilio undelivered (error 30006)",
    });
    const failed = await outboundReaching(svc.db, silentId, "failed");
    expect(failed).toMatchObject({ lastError: "no_report", attempts: 1, toAddr: "" });
    const [message] = sims.twilio.messages.filter((m) => m.to === silent);
    expect(sims.twilio.lookups).toContain(message!.sid);
    const steps = await history(svc, silentId);
    expect(steps.map((s) => s.status)).toEqual(["submitted", "failed"]);
    expect(Date.parse(steps[1]!.at) - Date.parse(steps[0]!.at)).toBeGreaterThanOrEqual(2_000);
    await waitFor(() => failuresOf(capture, silentId).length === 1, { what: "outbound.failed" });
    expect(failuresOf(capture, silentId)[0]).toMatchObject({ status: "failed", reason: "no_report" });
    await waitFor(() => reportsOf(capture, lostId).length === 1, { what: "the landline's delivery report" });
    expect(reportsOf(capture, silentId)).toEqual([]);
  });

  it("ends a Vonage message with no final receipt by the timeout alone", async ({ svc, sims, capture }) => {
    const to = msisdn();
    sims.vonage.script(to, ["none"]);
    const id = await send(svc, "VON", to);
    expect(await outboundReaching(svc.db, id, "failed")).toMatchObject({
      lastError: "no_report",
      attempts: 1,
    });
    await waitFor(() => failuresOf(capture, id).length === 1, { what: "outbound.failed" });
    expect(reportsOf(capture, id)).toEqual([]);
  });
});
