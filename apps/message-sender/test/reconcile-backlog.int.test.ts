/**
 * Reconciliation passes over a backlog larger than a batch (delivery-reports/reconcile.ts): a pass claims what it
 * asks about, so every waiting outbound is asked about once in turn even when answers are not final, and two workers'
 * passes at once share the outbounds instead of each asking about all; a pass claims at most its batches, a stopped
 * pass ends after the batch it is in, and an outbound is asked again only once `againAfterMs` has passed. The
 * worker's own reconciler is off here: the test runs the passes.
 */
import { serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import type { ReconcileOptions } from "../src/delivery-reports/reconcile.ts";
import { createMessageSenderService } from "../src/service.ts";
import { createTwilioChannel, msisdn } from "./helpers.ts";
import {
  reconcilerOf,
  type Svc,
  sendVia,
  type TwilioFixtures,
  twilioSetUp,
  twilioSimulator,
} from "./support.ts";

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

/**
 * Five outbounds submitted, none reported (three final at the provider, two never: it answers `sent` for as long
 * as it is asked): their provider ids, and those of the two never final.
 */
async function backlog(
  svc: Svc,
  sim: TwilioFixtures["sim"],
): Promise<{ all: string[]; neverFinal: string[] }> {
  const recipients = Array.from({ length: 5 }, () => msisdn());
  for (const to of recipients.slice(0, 2)) {
    sim.script(to, ["none"]);
  }
  for (const to of recipients) {
    await sendVia(svc, "TW_BACKLOG", to, { content: "backlog" });
  }
  const sent = () => sim.messages.filter((m) => recipients.includes(m.to));
  await waitFor(
    async () =>
      (await svc.db.outbound.count({ where: { status: "submitted", toAddr: { in: recipients } } })) === 5,
    { what: "five outbounds submitted" },
  );
  await waitFor(() => sent().filter((m) => m.status !== "sent").length === 3, {
    what: "three messages final at the provider",
  });
  return {
    all: sent().map((m) => m.sid),
    neverFinal: sent()
      .filter((m) => recipients.slice(0, 2).includes(m.to))
      .map((m) => m.sid),
  };
}

describe("a reconciliation pass over a backlog", () => {
  it("asks about every waiting outbound in turn, pass after pass, and again only once its time has come", async ({
    svc,
    sim,
  }) => {
    const { channels, pass } = reconcilerOf(svc);
    const { all, neverFinal } = await backlog(svc, sim);
    const asked: string[][] = [];
    /** One pass, in batches of two, asking again only after a minute; what it asked about goes in `asked`. */
    const passOver = async (options: Partial<ReconcileOptions>) => {
      sim.lookups.length = 0;
      const finished = await pass({ batch: 2, againAfterMs: 60_000, ...options });
      asked.push([...sim.lookups]);
      return finished;
    };
    // A stopped pass: the batch it is in, no more. Then a pass of one batch: the next two. Then a pass to the end:
    // the last one. Each asked about once.
    const stopped = new AbortController();
    stopped.abort();
    let finished = await passOver({ signal: stopped.signal });
    expect(asked[0]).toHaveLength(2);
    finished += await passOver({ maxBatches: 1 });
    expect(asked[1]).toHaveLength(2);
    finished += await passOver({});
    expect(asked[2]).toHaveLength(1);
    expect(asked.flat().toSorted()).toEqual(all.toSorted());
    expect(finished).toBe(3);
    expect((await submitted(svc)).toSorted()).toEqual(neverFinal.toSorted());

    // The two never final were asked a moment ago: not again within the minute, by this worker or another.
    expect(await passOver({})).toBe(0);
    expect(asked[3]).toEqual([]);
    // Once the time has come, each is asked once more.
    expect(await passOver({ againAfterMs: 0 })).toBe(0);
    expect(asked[4]?.toSorted()).toEqual(neverFinal.toSorted());
    await channels.close();
  });

  it("shares the waiting outbounds between two workers' passes at once: each asked about once", async ({
    svc,
    sim,
  }) => {
    const workers = [reconcilerOf(svc), reconcilerOf(svc)];
    const { all } = await backlog(svc, sim);
    sim.lookups.length = 0;
    // (The test before's two never final were asked less than a minute ago: not due.)
    const finished = await Promise.all(workers.map((w) => w.pass({ batch: 1, againAfterMs: 60_000 })));
    expect(sim.lookups.toSorted()).toEqual(all.toSorted());
    expect(finished[0]! + finished[1]!).toBe(3);
    await Promise.all(workers.map((w) => w.channels.close()));
  });
});
