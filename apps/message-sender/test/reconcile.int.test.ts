import type { OutboundDeliveryReport } from "@tidings/contracts";
import { adminAuth, serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { createMessageSenderService } from "../src/service.ts";
import { createTwilioChannel, msisdn } from "./helpers.ts";
import { type Svc, type TwilioFixtures, twilioSetUp, twilioSimulator } from "./support.ts";

const SID = `AC${"4".repeat(32)}`;
const TOKEN = "reconcile-auth-token";

const it = serviceTest(
  createMessageSenderService(),
  // One attempt: a failed report is final here (retries: redelivery.int.test.ts).
  {
    worker: true,
    env: { RECONCILE_INTERVAL_MS: "200", RECONCILE_AFTER_MS: "500", REDELIVERY_MAX_ATTEMPTS: "1" },
  },
  ["outbound.delivery_report"],
).extend<TwilioFixtures>({
  sim: twilioSimulator({ accounts: { [SID]: TOKEN }, callbackIntervalMs: 10 }),
  // No status_callback: the callbacks are lost, only the reconciler can learn the final status.
  setUp: twilioSetUp((svc, sim) =>
    createTwilioChannel(svc.app, "TW_LOST", { sid: SID, token: TOKEN, url: sim.url }),
  ),
});

const send = async (svc: Svc) =>
  (
    await svc.app.inject({
      method: "POST",
      url: "/api/v1/outbound/",
      headers: adminAuth,
      payload: { to_addr: msisdn(), content: "x", metadata: {}, channel: "TW_LOST" },
    })
  ).json().id as string;

const outbound = async (svc: Svc, id: string) =>
  (await svc.app.inject({ url: `/api/v1/outbound/${id}/`, headers: adminAuth })).json();

describe("the reconciler", () => {
  it("asks Twilio about a message whose status callbacks were lost, once it is old enough", async ({
    svc,
    sim,
    capture,
  }) => {
    sim.configure({ finalStatus: () => "undelivered" });
    const id = await send(svc);
    const final = await waitFor(
      async () => {
        const o = await outbound(svc, id);
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
