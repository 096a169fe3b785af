/**
 * Reconciliation passes over a backlog larger than a batch (delivery-reports/reconcile.ts): each pass goes on from
 * where the one before left off, so every waiting outbound is asked about once in turn even when answers are not
 * final; a pass reads at most its batches, a stopped pass ends after the batch it is in, and the passes start from
 * the oldest again once the backlog is read. The worker's own reconciler is off here: the test runs the passes.
 */
import { adminAuth, serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import type { ReconcileCursor, ReconcileOptions } from "../src/delivery-reports/reconcile.ts";
import { createMessageSenderService } from "../src/service.ts";
import { createTwilioChannel, msisdn } from "./helpers.ts";
import { reconcilerOf, type Svc, type TwilioFixtures, twilioSetUp, twilioSimulator } from "./support.ts";

const SID = `AC${"6".repeat(32)}`;
const TOKEN = "reconcile-backlog-token";

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
  it("asks about every waiting outbound in turn, pass after pass, from where the last one left off", async ({
    svc,
    sim,
  }) => {
    const { channels, pass } = reconcilerOf(svc);
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

    // A stopped pass: the batch it is in, no more; the worker's next pass goes on from there.
    const cursor: ReconcileCursor = {};
    const stopped = new AbortController();
    stopped.abort();
    const asked: string[][] = [];
    /** One pass, in batches of two, from the cursor; what it asked about goes in `asked`. */
    const passOver = async (options: ReconcileOptions) => {
      sim.lookups.length = 0;
      const finished = await pass({ batch: 2, cursor, ...options });
      asked.push([...sim.lookups]);
      return finished;
    };
    let finished = await passOver({ signal: stopped.signal });
    expect(asked[0]).toHaveLength(2);
    // A pass of one batch: the next two. Then a pass to the end: the last one, and the cursor goes back to the start.
    finished += await passOver({ maxBatches: 1 });
    expect(asked[1]).toHaveLength(2);
    finished += await passOver({});
    expect(asked[2]).toHaveLength(1);
    expect(cursor.after).toBeUndefined();
    expect(asked.flat().toSorted()).toEqual(sim.messages.map((m) => m.sid).toSorted());
    expect(finished).toBe(3);

    // From the oldest again: the two never final, each asked once more.
    const neverFinal = sim.messages.filter((m) => recipients.slice(0, 2).includes(m.to)).map((m) => m.sid);
    expect((await submitted(svc)).toSorted()).toEqual(neverFinal.toSorted());
    expect(await passOver({})).toBe(0);
    expect(asked[3]?.toSorted()).toEqual(neverFinal.toSorted());
    await channels.close();
  });
});
