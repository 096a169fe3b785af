import { describe, expect, it } from "vitest";
import {
  DEFAULT_DATABASE_SERVER,
  prismaClientOptions,
  servicePool,
  statement,
  withStatements,
} from "../src/index.ts";

// `statement`: a hot-path statement on the pool under a Prisma client, prepared once per connection and generation.

/** A stand-in for a Prisma client: withStatements needs only its $disconnect. */
function client() {
  const pool = servicePool(`${DEFAULT_DATABASE_SERVER}/postgres`, 1);
  let disconnected = false;
  const db = withStatements(
    {
      $disconnect: async () => {
        disconnected = true;
      },
    },
    pool,
  );
  return { db, pool, disconnected: () => disconnected };
}

const prepared = (db: object) =>
  statement<{ n: number }>(
    db,
    // (the marker split, so that this statement, prepared too, does not count itself)
    "SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'tidings\\_%' AND statement LIKE '%' || 'once' || '-marker%'",
  );

describe("statement", () => {
  it("runs a statement with its values and answers pg's rows", async () => {
    const { db } = client();
    try {
      expect(
        await statement(db, "SELECT $1::int + 1 AS n, $2::jsonb AS j, $3::timestamptz AS at", [
          41,
          JSON.stringify({ a: [1] }),
          new Date("2026-12-06T10:00:00Z"),
        ]),
      ).toEqual([{ n: 42, j: { a: [1] }, at: new Date("2026-12-06T10:00:00Z") }]);
    } finally {
      await db.$disconnect();
    }
  });

  it("prepares a text once on a connection, however often it runs", async () => {
    const { db } = client();
    try {
      expect(await prepared(db)).toEqual([{ n: 0 }]);
      for (let i = 0; i < 3; i++) {
        await statement(db, "SELECT $1::int + 1 AS n -- once-marker", [i]);
      }
      expect(await prepared(db)).toEqual([{ n: 1 }]);
    } finally {
      await db.$disconnect();
    }
  });

  it("plans a text again as this process runs it more: a plan made on a small table does not outlive its growth", async () => {
    const { db, pool } = client(); // one connection: the statements and the checks below share it
    try {
      await pool.query("CREATE TEMP TABLE replan (id int PRIMARY KEY, v text)");
      await pool.query("INSERT INTO replan SELECT g, 'v' || g FROM generate_series(1, 10) g");
      await pool.query("ANALYZE replan");
      const text = "SELECT v FROM replan WHERE id = ANY($1::int[]) -- replan-marker";
      /** The text's prepared statements on the connection, and the plan of the one there is. */
      const plans = async () => {
        const { rows } = await pool.query<{ name: string }>(
          "SELECT name FROM pg_prepared_statements WHERE statement LIKE '%' || 'replan' || '-marker%'",
        );
        const explained = await pool.query<{ "QUERY PLAN": string }>(
          `EXPLAIN EXECUTE ${rows[0]?.name}('{1,2}')`,
        );
        return { count: rows.length, plan: explained.rows[0]?.["QUERY PLAN"] };
      };
      for (let i = 0; i < 63; i++) {
        expect(await statement(db, text, [[1, 2]])).toEqual([{ v: "v1" }, { v: "v2" }]);
      }
      await pool.query("INSERT INTO replan SELECT g, 'v' || g FROM generate_series(11, 100000) g");
      // The plan made on ten rows is kept (no statistics changed): it reads all 100,000.
      expect(await plans()).toEqual({ count: 1, plan: expect.stringMatching(/^Seq Scan on replan/) });
      expect(await statement(db, text, [[1, 2]])).toEqual([{ v: "v1" }, { v: "v2" }]); // the 64th run
      expect(await plans()).toEqual({
        count: 1,
        plan: expect.stringMatching(/^Index Scan using replan_pkey/),
      });
    } finally {
      await db.$disconnect();
    }
  });

  it("refuses a client it was not given (a transaction's), and its $disconnect ends the pool", async () => {
    const { db, pool, disconnected } = client();
    await expect(statement({}, "SELECT 1")).rejects.toThrow(/not a transaction's/);
    await db.$disconnect();
    expect(disconnected()).toBe(true);
    expect(pool.ended).toBe(true);
    await db.$disconnect(); // twice is harmless
  });

  it("runs with JIT off, on a service's pool and on the pool Prisma makes from a URL", async () => {
    const { db } = client();
    try {
      expect(await statement(db, "SHOW jit")).toEqual([{ jit: "off" }]);
    } finally {
      await db.$disconnect();
    }
    const adapter = await prismaClientOptions(`${DEFAULT_DATABASE_SERVER}/postgres`, 1).adapter.connect();
    try {
      const shown = await adapter.queryRaw({ sql: "SHOW jit", args: [], argTypes: [] });
      expect(shown.rows).toEqual([["off"]]);
    } finally {
      await adapter.dispose();
    }
  });
});
