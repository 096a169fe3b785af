import { waitFor } from "@tidings/testing";
import type pg from "pg";
import { describe, expect } from "vitest";
import { enqueueStatement, OUTBOX_MESSAGES, type OutboxMessage } from "../src/index.ts";
import { outboundSend } from "./helpers.ts";
import { outboxTest as it } from "./outbox-support.ts";

// Grouped outbox rows (enqueueStatement's `grouped`): the events of one statement in one row, published by the
// relay each under its own id, as separate rows would be.

const messages = (n: number): OutboxMessage[] =>
  Array.from({ length: n }, (_, i) => ({ name: "outbound.send", payload: outboundSend(`group ${i}`) }));

/** A grouped statement whose change is the ids `kept`; only their messages are written. */
function groupKeeping(batch: OutboxMessage[], kept: string[]) {
  return enqueueStatement(
    batch,
    {
      ctes: "changed AS (SELECT unnest($1::uuid[]) AS id)",
      values: [kept],
      onlyIf: "(m.payload->>'id')::uuid IN (SELECT id FROM changed)",
    },
    { grouped: true },
  );
}

const idOf = (m: OutboxMessage) => (m.payload as { id: string }).id;

async function run(pool: pg.Pool, statement: { text: string; values: unknown[] }): Promise<number> {
  return (await pool.query<{ n: number }>(statement.text, statement.values)).rows[0]?.n ?? -1;
}

describe("grouped outbox rows", () => {
  it("hold the messages the change keeps in one row; the relay publishes each under its own id, in order", async ({
    pool,
    capture,
    startRelay,
    outboxCount,
  }) => {
    const batch = messages(4);
    const statement = groupKeeping(
      batch,
      [0, 2, 3].map((i) => idOf(batch[i] as OutboxMessage)),
    );
    expect(await run(pool, statement)).toBe(3);
    const { rows } = await pool.query<{ id: string; also: { id: string; name: string }[] }>(
      "SELECT id::text, also FROM tidings_outbox",
    );
    expect(rows).toEqual([
      {
        id: statement.ids[0],
        also: [2, 3].map((i) => expect.objectContaining({ id: statement.ids[i], name: "outbound.send" })),
      },
    ]);
    const read = await pool.query<{ id: string }>(`SELECT id::text FROM ${OUTBOX_MESSAGES} ORDER BY seq, k`);
    expect(read.rows.map((r) => r.id)).toEqual([0, 2, 3].map((i) => statement.ids[i]));
    // Nothing kept: no row at all.
    expect(await run(pool, groupKeeping(messages(2), []))).toBe(0);
    expect(await outboxCount()).toBe(1);

    const heard: string[][] = [];
    await startRelay({ onPublished: (published) => heard.push(published.map((m) => m.id)) });
    await waitFor(async () => (await outboxCount()) === 0, { what: "the group published" });
    const expected = [0, 2, 3].map((i) => statement.ids[i]);
    expect(heard).toEqual([expected]);
    await waitFor(() => capture.messages.length === 3, { what: "three messages" });
    expect(capture.messages.map((m) => [m.messageId, (m.payload as { id: string }).id])).toEqual(
      [0, 2, 3].map((i) => [statement.ids[i], idOf(batch[i] as OutboxMessage)]),
    );
  });

  it("are relayed whole, in batches of at most batchSize messages (a larger group alone)", async ({
    pool,
    startRelay,
    outboxCount,
  }) => {
    for (const size of [3, 3, 7, 1]) {
      const batch = messages(size);
      expect(await run(pool, groupKeeping(batch, batch.map(idOf)))).toBe(size);
    }
    const sizes: number[] = [];
    await startRelay({ batchSize: 5, onPublished: (published) => sizes.push(published.length) });
    await waitFor(async () => (await outboxCount()) === 0, { what: "the groups published" });
    expect(sizes).toEqual([3, 3, 7, 1]);
  });
});
