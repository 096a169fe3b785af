import { randomUUID } from "node:crypto";
import { handledMessages } from "@tidings/amqp";
import type { OutboundSend } from "@tidings/contracts";
import { serviceTest, waitFor } from "@tidings/testing";
import { describe, expect } from "vitest";
import { recordConsent } from "../src/consent/consent.ts";
import { identityWithAddressSql } from "../src/recipients/address-book.ts";
import {
  ClaimBatcher,
  type Claimed,
  claimInput,
  claimStatement,
  type NotClaimed,
} from "../src/sending/claim-window.ts";
import { createMessageSenderService } from "../src/service.ts";
import { createTwilioChannel, msisdn } from "./helpers.ts";
import { type TwilioFixtures, twilioSetUp, twilioSimulator } from "./support.ts";

// A worker's outbound.send window stored and claimed together (ClaimBatcher), and claimed only as fast as it can be
// sent: a worker running 3 sends at once with 3 s claims, through a channel that sends one at a time (400 ms
// each) and needs 2.5 s of claim left to start one (1.5 s timeout + 1 s margin).

const SID = `AC${"5".repeat(32)}`;
const TOKEN = "claim-window-auth-token";

const it = serviceTest(createMessageSenderService(), {
  worker: true,
  env: { OUTBOUND_SENDS_IN_FLIGHT: "3", OUTBOUND_CLAIM_TTL_MS: "3000", CHANNEL_PAUSE_MAX_WAIT_MS: "10000" },
}).extend<TwilioFixtures>({
  sim: twilioSimulator({ accounts: { [SID]: TOKEN }, latencyMs: 400 }),
  setUp: twilioSetUp((svc, sim) =>
    createTwilioChannel(
      svc.app,
      "ONE_AT_A_TIME",
      { sid: SID, token: TOKEN, url: sim.url },
      { timeout_ms: 1_500 },
      { concurrency_limit: 1 },
    ),
  ),
});

type PlanNode = { "Node Type": string; "Relation Name"?: string; Plans?: PlanNode[] };

/** The scans of a statement's plan (EXPLAIN, not run), in plan order: each node's type and table. */
async function scansOf(
  db: { $queryRawUnsafe<T>(query: string, ...values: unknown[]): Promise<T> },
  text: string,
  values: unknown[] = [],
): Promise<{ type: string; relation?: string }[]> {
  const [explained] = await db.$queryRawUnsafe<{ "QUERY PLAN": { Plan: PlanNode }[] }[]>(
    `EXPLAIN (FORMAT JSON) ${text}`,
    ...values,
  );
  const scans: { type: string; relation?: string }[] = [];
  const walk = (node: PlanNode): void => {
    if (node["Node Type"].endsWith("Scan")) {
      scans.push({ type: node["Node Type"], relation: node["Relation Name"] });
    }
    node.Plans?.forEach(walk);
  };
  walk(explained!["QUERY PLAN"][0]!.Plan);
  return scans;
}

const command = (channel = "ONE_AT_A_TIME"): OutboundSend => ({
  id: randomUUID(),
  to_addr: msisdn(),
  content: "Your appointment is tomorrow",
  channel,
  metadata: {},
});

/** outbound.send deliveries handled so far with `outcome` (ack, retry, dead_letter). */
async function handled(outcome: string): Promise<number> {
  const { values } = await handledMessages.get();
  return values
    .filter((v) => String(v.labels.queue).includes("outbound-send") && v.labels.outcome === outcome)
    .reduce((sum, v) => sum + v.value, 0);
}

const isClaimed = (outcome: Claimed | NotClaimed): outcome is Claimed => "claim" in outcome;

describe("a window of outbound.send claimed together", () => {
  it("stores the sends asked for in the same turn in one statement", async ({ svc }) => {
    const batcher = new ClaimBatcher(svc.db, "claim-window-test", 30_000);
    const commands = Array.from({ length: 20 }, () => command("LOG"));
    const outcomes = await Promise.all(commands.map((c) => batcher.claim(c, "LOG")));

    expect(outcomes.every((o) => isClaimed(o) && o.inserted)).toBe(true);
    const rows = await svc.db.outbound.findMany({ where: { id: { in: commands.map((c) => c.id) } } });
    expect(rows.map((r) => r.claimedBy)).toEqual(commands.map(() => "claim-window-test"));
    // Asked for in one turn of the event loop, all 20 share one statement (not the first two at once, in the two
    // statements that may be in flight, and the rest after): a statement's rows share its transaction's now().
    expect(new Set(rows.map((r) => r.createdAt.getTime())).size).toBe(1);
  });

  it("reads each named recipient's consent and address-book identity in the claim's statement", async ({
    svc,
  }) => {
    const batcher = new ClaimBatcher(svc.db, "claim-window-test", 30_000);
    const [stopped, known, plain, unnamed] = [0, 1, 2, 3].map(() => command("LOG"));
    const identity = randomUUID();
    // Known too, but sent to its own identity: it is linked to no other, so the book is not read for it.
    const withIdentity = { ...command("LOG"), to_addr: known!.to_addr, to_identity: randomUUID() };
    await recordConsent(svc.db, [stopped!.to_addr as string], true, "stop", new Date());
    await svc.db.addressBookEntry.create({
      data: {
        identity,
        addresses: [{ type: "msisdn", address: known!.to_addr }],
        identityUpdatedAt: new Date(),
      },
    });

    const outcomes = await Promise.all(
      [stopped, known, plain, withIdentity]
        .map((c) => batcher.claim(c!, "LOG", c!.to_addr))
        .concat(batcher.claim(unnamed!, "LOG")),
    );
    expect(outcomes.map((o) => (isClaimed(o) ? o.checked : o))).toEqual([
      { recipient: stopped!.to_addr, optedOut: true, identity: null },
      { recipient: known!.to_addr, optedOut: false, identity },
      { recipient: plain!.to_addr, optedOut: false, identity: null },
      { recipient: known!.to_addr, optedOut: false, identity: null },
      null,
    ]);
  });

  it("finds an address's identity through the address book's index, not by reading the whole book", async ({
    svc,
  }) => {
    // A book of 5,000 people, on numbers msisdn() never makes (a scan of 100,000 took 600 ms a send in the stage benchmark).
    await svc.db.$executeRaw`INSERT INTO address_book_entry (identity, addresses, identity_updated_at)
      SELECT gen_random_uuid(), jsonb_build_array(jsonb_build_object('type', 'msisdn', 'address', '+2783' || n)), now()
      FROM generate_series(1000000, 1004999) AS n`;
    await svc.db.$executeRaw`ANALYZE address_book_entry`;
    const scans = await scansOf(svc.db, `SELECT ${identityWithAddressSql("'+27831000042'")}`);
    expect(scans.map((scan) => scan.type)).toEqual(["Bitmap Heap Scan", "Bitmap Index Scan"]);
  });

  it("reads the outbounds of a window by primary key, not by scanning the outbound table", async ({
    svc,
  }) => {
    // 20,000 outbounds sent before: the plan of `id IN (SELECT id FROM input)` scanned them all for each claim.
    await svc.db.$executeRaw`INSERT INTO outbound (id, channel, status, delivered)
      SELECT gen_random_uuid(), 'LOG', 'delivered', true FROM generate_series(1, 20000)`;
    await svc.db.$executeRaw`ANALYZE outbound`;
    const window = [command("LOG"), command("LOG")].map((c) => claimInput(c, "LOG", c.to_addr));
    const claim = claimStatement(window, "plan-worker", 30_000);
    const scans = (await scansOf(svc.db, claim.text, claim.values))
      .filter((scan) => scan.relation === "outbound")
      .map((scan) => scan.type);
    expect(scans.length).toBeGreaterThan(0);
    expect(scans).not.toContain("Seq Scan");
  });

  it("claims in one statement what it may, and says why it did not claim the rest", async ({ svc }) => {
    const setUp = new ClaimBatcher(svc.db, "earlier-worker", 30_000);
    const [queued, live, lapsed, sent] = Array.from({ length: 4 }, () => command("LOG"));
    for (const c of [queued, live, lapsed, sent]) {
      await setUp.claim(c as OutboundSend, "LOG");
    }
    const ids = (...cs: (OutboundSend | undefined)[]) => ({ id: { in: cs.map((c) => c?.id as string) } });
    await svc.db.outbound.updateMany({ where: ids(queued), data: { claimedBy: null, claimedUntil: null } });
    await svc.db.outbound.updateMany({
      where: ids(lapsed),
      data: { claimedUntil: new Date(Date.now() - 1_000) },
    });
    await svc.db.outbound.updateMany({ where: ids(sent), data: { status: "submitted" } });

    const batcher = new ClaimBatcher(svc.db, "this-worker", 30_000);
    const fresh = command("LOG");
    const window = [queued, live, lapsed, sent, fresh, fresh] as OutboundSend[];
    const [q, l, p, s, f1, f2] = await Promise.all(window.map((c) => batcher.claim(c, "LOG")));

    expect(q).toMatchObject({ inserted: false, previous_worker: null, previous_until: null });
    expect(l).toEqual({ status: "queued", claimedBy: "earlier-worker" });
    // A lapsed claim is taken over, naming the worker that held it (the send asks the provider first).
    expect(p).toMatchObject({ inserted: false, previous_worker: "earlier-worker" });
    expect(s).toEqual({ status: "submitted", claimedBy: "earlier-worker" });
    // The same id twice in a window: stored and claimed once; the other delivery finds it claimed (by us).
    expect([f1, f2].filter((o) => o && isClaimed(o))).toHaveLength(1);
    expect([f1, f2].find((o) => o && !isClaimed(o))).toEqual({ status: "queued", claimedBy: "this-worker" });
    const claimedBy = await svc.db.outbound.findMany({ where: ids(queued, lapsed, fresh) });
    expect(claimedBy.map((r) => r.claimedBy)).toEqual(["this-worker", "this-worker", "this-worker"]);
  });

  it("keeps the claims of sends in progress until they are released", async ({ svc }) => {
    const batcher = new ClaimBatcher(svc.db, "claim-window-test", 900);
    try {
      const [kept, let_go] = [command("LOG"), command("LOG")];
      const [k, l] = await Promise.all([kept, let_go].map((c) => batcher.claim(c, "LOG")));
      if (!k || !l || !isClaimed(k) || !isClaimed(l)) {
        throw new Error("not claimed");
      }
      const claimedAt = k.claim.at;
      batcher.release(let_go.id, l.claim);
      // Three claims' terms later: the one in progress renewed every 300 ms, the released one lapsed.
      await new Promise((resolve) => setTimeout(resolve, 2_700));
      const [keptRow, letGoRow] = await Promise.all(
        [kept, let_go].map((c) => svc.db.outbound.findUniqueOrThrow({ where: { id: c.id } })),
      );
      const now = (await svc.db.$queryRaw<{ now: Date }[]>`SELECT now()`)[0]?.now as Date;
      expect(keptRow?.claimedUntil?.getTime()).toBeGreaterThan(now.getTime());
      expect(k.claim.at).toBeGreaterThan(claimedAt + 1_000);
      expect(letGoRow?.claimedUntil?.getTime()).toBeLessThan(now.getTime());
    } finally {
      batcher.close();
    }
  });

  it("fails only the send at fault when a shared statement fails", async ({ svc }) => {
    const batcher = new ClaimBatcher(svc.db, "claim-window-test", 30_000);
    const good = Array.from({ length: 6 }, () => command("LOG"));
    const bad = { ...command("LOG"), to_identity: "not-a-uuid" };
    const outcomes = await Promise.allSettled([...good, bad].map((c) => batcher.claim(c, "LOG")));

    expect(outcomes.slice(0, 6).every((o) => o.status === "fulfilled" && isClaimed(o.value))).toBe(true);
    expect(outcomes[6]?.status).toBe("rejected");
    expect(await svc.db.outbound.count({ where: { id: { in: good.map((c) => c.id) } } })).toBe(6);
  });

  it("takes a claim only for a send that can start, and renews one that waited for the channel", async ({
    svc,
    sim,
  }) => {
    // 15 sends through a channel that takes one at a time: each waits for the one before it. Claimed all at once,
    // or with claims not renewed, most would run out of claim before they could start (and be retried).
    const [acked, retried] = [await handled("ack"), await handled("retry")];
    const commands = Array.from({ length: 15 }, () => command());
    await Promise.all(commands.map((c) => svc.broker.publish("outbound.send", c)));

    const rows = await waitFor(
      async () => {
        const found = await svc.db.outbound.findMany({ where: { id: { in: commands.map((c) => c.id) } } });
        return found.length === commands.length && found.every((r) => r.status === "submitted") && found;
      },
      { what: "every send to be submitted", timeoutMs: 60_000 },
    );
    // A message is acked after its send's record commits: the last ack may follow the last row by a moment.
    await waitFor(async () => (await handled("ack")) >= acked + commands.length, {
      what: "every send acked",
    });
    expect(await handled("retry")).toBe(retried);
    expect(await handled("ack")).toBe(acked + commands.length);
    expect(rows.map((r) => r.attempts)).toEqual(commands.map(() => 1));
    for (const c of commands) {
      expect(sim.requests.filter((r) => r.To === c.to_addr)).toHaveLength(1);
    }
  }, 90_000);
});
