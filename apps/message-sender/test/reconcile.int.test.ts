import type { OutboundDeliveryReport } from "@tidings/contracts";
import { startTwilioSimulator, type TwilioSimulator } from "@tidings/provider-simulators";
import {
  adminAuth,
  type Capture,
  captureMessages,
  startTestService,
  type TestService,
  waitFor,
} from "@tidings/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessageSenderConfig } from "../src/config.ts";
import type { Db } from "../src/db.ts";
import { createMessageSenderService } from "../src/service.ts";
import { createTwilioChannel, msisdn } from "./helpers.ts";

const SID = `AC${"4".repeat(32)}`;
const TOKEN = "reconcile-auth-token";

let svc: TestService<MessageSenderConfig, Db>;
let sim: TwilioSimulator;
let capture: Capture;

beforeAll(async () => {
  sim = await startTwilioSimulator({ accounts: { [SID]: TOKEN }, callbackIntervalMs: 10 });
  svc = await startTestService(createMessageSenderService(), {
    worker: true,
    // One attempt: a failed report is final here (retries: redelivery.int.test.ts).
    env: { RECONCILE_INTERVAL_MS: "200", RECONCILE_AFTER_MS: "500", REDELIVERY_MAX_ATTEMPTS: "1" },
  });
  capture = await captureMessages(svc.namespace, ["outbound.delivery_report"]);
  // No status_callback: the callbacks are lost, only the reconciler can learn the final status.
  await createTwilioChannel(svc.app, "TW_LOST", { sid: SID, token: TOKEN, url: sim.url });
});
afterAll(async () => {
  await capture?.stop();
  await svc?.close();
  await sim?.close();
});

const send = async () =>
  (
    await svc.app.inject({
      method: "POST",
      url: "/api/v1/outbound/",
      headers: adminAuth,
      payload: { to_addr: msisdn(), content: "x", metadata: {}, channel: "TW_LOST" },
    })
  ).json().id as string;

const outbound = async (id: string) =>
  (await svc.app.inject({ url: `/api/v1/outbound/${id}/`, headers: adminAuth })).json();

describe("the reconciler", () => {
  it("asks Twilio about a message whose status callbacks were lost, once it is old enough", async () => {
    sim.configure({ finalStatus: () => "undelivered" });
    const id = await send();
    const final = await waitFor(
      async () => {
        const o = await outbound(id);
        return !["queued", "submitted"].includes(o.status) && o;
      },
      { what: "a final status from the reconciler" },
    );
    // Asked only once the outbound had been submitted for RECONCILE_AFTER_MS (500 ms).
    const history = await svc.db.outboundEvent.findMany({
      where: { outboundId: id },
      orderBy: { id: "asc" },
    });
    expect(history.map((h) => h.status)).toEqual(["submitted", "failed"]);
    expect(history[1]!.at.getTime() - history[0]!.at.getTime()).toBeGreaterThanOrEqual(450);
    expect(final).toMatchObject({ status: "failed", to_addr: "", last_error: "twilio undelivered" });
    await waitFor(
      () =>
        capture.messages.filter((m) => (m.payload as OutboundDeliveryReport).outbound_id === id).length === 1,
      { what: "one delivery report" },
    );
  });
});
