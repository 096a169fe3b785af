import { context, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { OUTBOX_MESSAGES } from "@tidings/amqp";
import type { OutboundSend, RedeliveryPolicy } from "@tidings/contracts";
import { serviceTest } from "@tidings/testing";
import { describe, expect } from "vitest";
import { reportBatcher } from "../src/outbound/report-batch.ts";
import { recordSends, reportFinal } from "../src/outbound/status.ts";
import { sendRecorder } from "../src/sending/claim.ts";
import { createMessageSenderService } from "../src/service.ts";
import { historyOf } from "./helpers.ts";
import { accepted, claimedBy } from "./submitted.ts";
import type { Svc } from "./support.ts";

// The sends a worker's provider accepted, recorded together: one statement for those that finish at the same time
// (the claim's compare-and-set, the history entry and outbound.submitted of each). No worker runs here, so the
// outbox keeps what the statements wrote.

const it = serviceTest(createMessageSenderService());

const submittedEvents = (svc: Svc, ids: string[]) =>
  svc.db.$queryRawUnsafe<{ id: string }[]>(
    `SELECT payload->>'id' AS id FROM ${OUTBOX_MESSAGES} WHERE name = 'outbound.submitted' AND payload->>'id' = ANY($1)`,
    ids,
  );

/** Runs `act` in a trace of its own, `traceId`. */
const inTrace = <T>(traceId: string, act: () => T): T =>
  context.with(
    trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: "00f067aa0ba902b7", traceFlags: 1 }),
    act,
  );

describe("sends recorded together", () => {
  it("keeps each send's own trace for its outbound.submitted, whichever send's statement writes it", async ({
    svc,
  }) => {
    // OpenTelemetry's context manager and W3C propagator, exporting nothing.
    const sdk = new NodeSDK({ spanProcessors: [], metricReaders: [], logRecordProcessors: [] });
    sdk.start();
    try {
      const commands = await claimedBy(svc, "recorder-3", 12);
      const record = sendRecorder(svc.db);
      const traceOf = (i: number) => (i + 1).toString(16).padStart(32, "0");
      await Promise.all(commands.map((c, i) => inTrace(traceOf(i), () => record(accepted(c, "recorder-3")))));
      const rows = await svc.db.$queryRawUnsafe<{ id: string; traceparent: string }[]>(
        `SELECT payload->>'id' AS id, trace_context->>'traceparent' AS traceparent FROM ${OUTBOX_MESSAGES}
         WHERE name = 'outbound.submitted' AND payload->>'id' = ANY($1)`,
        commands.map((c) => c.id),
      );
      const expected = commands.map((c, i) => [c.id, `00-${traceOf(i)}-00f067aa0ba902b7-01`]);
      expect(rows.map((r) => [r.id, r.traceparent]).sort()).toEqual(expected.sort());
    } finally {
      await sdk.shutdown();
    }
  });

  it("records the sends that finish in the same turn in one statement", async ({ svc }) => {
    const commands = await claimedBy(svc, "recorder-1", 20);
    const sends = commands.map((c) => accepted(c, "recorder-1"));
    const record = sendRecorder(svc.db);

    expect(await Promise.all(sends.map(record))).toEqual(sends.map(() => true));
    const ids = commands.map((c) => c.id);
    const rows = await svc.db.outbound.findMany({ where: { id: { in: ids } }, orderBy: { id: "asc" } });
    expect(rows.map((r) => [r.id, r.status, r.providerId, r.attempts, r.claimedUntil])).toEqual(
      [...sends]
        .sort((a, b) => a.id.localeCompare(b.id))
        .map((s) => [s.id, "submitted", s.result.providerId, 1, null]),
    );
    const history = (await Promise.all(ids.map((id) => historyOf(svc.db, id)))).flat();
    expect(history.map((h) => h.status)).toEqual(ids.map(() => "submitted"));
    // Finished in one turn of the event loop, all 20 share one statement: its transaction's now().
    expect(new Set(history.map((h) => h.at)).size).toBe(1);
    expect((await submittedEvents(svc, ids)).map((e: { id: string }) => e.id).sort()).toEqual(
      [...ids].sort(),
    );
    // And one outbox row per statement, however many events it holds (a group, published one by one).
    const [outbox] = await svc.db.$queryRawUnsafe<{ rows: number }[]>(
      `SELECT count(DISTINCT seq)::int AS rows FROM ${OUTBOX_MESSAGES}
       WHERE name = 'outbound.submitted' AND payload->>'id' = ANY($1)`,
      ids,
    );
    expect(outbox?.rows).toBe(1);
  });

  it("records only the sends still under their worker's claim, and announces only those", async ({ svc }) => {
    const commands = await claimedBy(svc, "recorder-2", 3);
    const taken = commands[1] as OutboundSend;
    // Its claim lapsed and another worker took it over.
    await svc.db.outbound.update({ where: { id: taken.id }, data: { claimedBy: "another-worker" } });

    const recorded = await recordSends(
      svc.db,
      commands.map((c) => accepted(c, "recorder-2")),
    );
    expect(recorded).toEqual([true, false, true]);
    expect(await svc.db.outbound.findUniqueOrThrow({ where: { id: taken.id } })).toMatchObject({
      status: "queued",
      providerId: null,
    });
    expect(await historyOf(svc.db, taken.id)).toEqual([]);
    const ids = commands.map((c) => c.id);
    expect((await submittedEvents(svc, ids)).map((e: { id: string }) => e.id).sort()).toEqual(
      [commands[0]?.id, commands[2]?.id].sort(),
    );
  });

  it("applies the final reports that overtook its sends in shared statements, and forgets them", async ({
    svc,
  }) => {
    const commands = await claimedBy(svc, "recorder-3", 12);
    const redelivery: RedeliveryPolicy = {
      max_attempts: 3,
      backoff_seconds: [60],
      retry_on: ["network"],
      no_report_timeout_seconds: 600,
    };
    const sends = commands.map((c) => ({ ...accepted(c, "recorder-3"), redelivery }));
    const providerId = (i: number) => sends[i]?.result.providerId as string;
    // Ten overtake their sends: eight delivered, a failure the policy retries, a failure it does not.
    const overtaken = Array.from({ length: 10 }, (_, i) => i + 1);
    expect(
      await Promise.all(
        overtaken.map((i) =>
          i === 9
            ? reportFinal(svc.db, "LOG", providerId(i), false, "network down", {
                kind: "network",
                defaults: redelivery,
              })
            : i === 10
              ? reportFinal(svc.db, "LOG", providerId(i), false, "blocked", {
                  kind: "blocked",
                  defaults: redelivery,
                })
              : reportFinal(svc.db, "LOG", providerId(i), true, null),
        ),
      ),
    ).toEqual(overtaken.map(() => "early"));
    const batcher = reportBatcher(svc.db);
    const before = batcher.statements;

    expect(await recordSends(svc.db, sends)).toEqual(sends.map(() => true));
    // ONE read and ONE statement for the ten, then the retried one's next attempt on its own (one each: 20 and more).
    expect(batcher.statements - before).toBe(3);
    const rows = await svc.db.outbound.findMany({ where: { id: { in: commands.map((c) => c.id) } } });
    const row = (i: number) => rows.find((r) => r.id === sends[i]?.id);
    expect(overtaken.slice(0, 8).map((i) => row(i)?.status)).toEqual(
      overtaken.slice(0, 8).map(() => "delivered"),
    );
    expect(row(9)).toMatchObject({
      status: "queued",
      providerId: null,
      attempts: 1,
      lastError: "network down",
    });
    expect(row(9)?.notBefore?.getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect(row(10)).toMatchObject({ status: "failed", delivered: false, lastError: "blocked" });
    expect([row(0), row(11)].map((r) => r?.status)).toEqual(["submitted", "submitted"]);
    expect(await svc.db.earlyReport.count({ where: { providerId: { in: overtaken.map(providerId) } } })).toBe(
      0,
    );
  });
});
