/**
 * A reconciliation pass over a backlog larger than its batch (delivery-reports/reconcile.ts): it reads batch after
 * batch until one is not full, asking about each outbound once even when answers are not final, and a stopped pass
 * ends after the batch it is in. The worker's own reconciler is off here: the test runs the passes.
 */
import { adminAuth, serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { buildAdapter } from "../src/channels/adapters.ts";
import { ChannelCache } from "../src/channels/channel-cache.ts";
import { reconcile } from "../src/delivery-reports/reconcile.ts";
import type { Channel as ChannelRow } from "../src/generated/prisma/client.ts";
import type { Logger } from "../src/outbound/channel.ts";
import { defaultRedelivery } from "../src/outbound/redelivery.ts";
import { createMessageSenderService } from "../src/service.ts";
import { createTwilioChannel, msisdn } from "./helpers.ts";
import { type Svc, type TwilioFixtures, twilioSetUp, twilioSimulator } from "./support.ts";

const SID = `AC${"6".repeat(32)}`;
const TOKEN = "reconcile-backlog-token";
const quiet = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;

const it = serviceTest(createMessageSenderService(), {
  worker: true,
  env: { RECONCILE_INTERVAL_MS: "0" },
}).extend<TwilioFixtures>({
  sim: twilioSimulator({ accounts: { [SID]: TOKEN }, callbackIntervalMs: 10 }),
  // No status_callback: every report is lost, only a reconciliation pass learns the final status.
  setUp: twilioSetUp((svc, sim) =>
    createTwilioChannel(svc.app, "TW_BACKLOG", { sid: SID, token: TOKEN, url: sim.url }),
  ),
});

const submitted = async (svc: Svc) =>
  (await svc.db.outbound.findMany({ where: { status: "submitted" }, select: { providerId: true } })).map(
    (o) => o.providerId,
  );

describe("a reconciliation pass over a backlog", () => {
  it("asks about every waiting outbound once, batch after batch; a stopped pass ends after its batch", async ({
    svc,
    sim,
  }) => {
    const channels = new ChannelCache(svc.db, 60_000, {
      injected: {},
      build: (row: ChannelRow) => buildAdapter(row, quiet, svc.config, svc.db),
    });
    const pass = (signal?: AbortSignal) =>
      reconcile(svc.db, channels, 0, defaultRedelivery(svc.config), quiet, { batch: 2, signal });
    const recipients = Array.from({ length: 5 }, () => msisdn());
    // Two of them never get a final status: the provider answers `sent` for as long as it is asked.
    for (const to of recipients.slice(0, 2)) {
      sim.script(to, ["none"]);
    }
    for (const to of recipients) {
      const answer = await svc.app.inject({
        method: "POST",
        url: "/api/v1/outbound/",
        headers: adminAuth,
        payload: { to_addr: to, content: "backlog", metadata: {}, channel: "TW_BACKLOG" },
      });
      expect(answer.statusCode).toBe(201);
    }
    await waitFor(async () => (await submitted(svc)).length === 5, { what: "five outbounds submitted" });
    await waitFor(() => sim.messages.filter((m) => m.status !== "sent").length === 3, {
      what: "three messages final at the provider",
    });

    const stopped = new AbortController();
    stopped.abort();
    await pass(stopped.signal);
    expect(sim.lookups).toHaveLength(2);

    const waiting = await submitted(svc);
    sim.lookups.length = 0;
    const finished = await pass();
    expect(sim.lookups.toSorted()).toEqual(waiting.toSorted());
    expect(finished).toBe(waiting.length - 2);
    const left = await submitted(svc);
    const neverFinal = sim.messages.filter((m) => recipients.slice(0, 2).includes(m.to)).map((m) => m.sid);
    expect(left.toSorted()).toEqual(neverFinal.toSorted());
    await channels.close();
  });
});
