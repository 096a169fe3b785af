import { createHash } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";

/**
 * Every service connection's session settings: no JIT compilation. Tidings' statements are short, and a cached
 * (generic) plan whose estimate passes jit_above_cost is compiled anew at every execution: the claim statement,
 * once the address book held 100,000 entries, spent 92 of its 166 ms compiling 79 functions, 0.2 ms without
 * (EXPLAIN ANALYZE). A DATABASE_URL's own `options` replace these.
 */
const SESSION_OPTIONS = "-c jit=off";

/**
 * How every service builds its Prisma client: the pg driver adapter with a pool of `poolSize` connections (or
 * the pool given), and interactive transactions that may wait for a connection as long as a consumer's burst
 * takes to drain (a worker takes up to AMQP_PREFETCH messages at once, far more than the pool has connections).
 */
export function prismaClientOptions(database: string | pg.Pool, poolSize = 10) {
  return {
    adapter: new PrismaPg(
      typeof database === "string"
        ? { connectionString: database, max: poolSize, options: SESSION_OPTIONS }
        : database,
    ),
    transactionOptions: { maxWait: 10_000, timeout: 15_000 },
  };
}

/** A Prisma client: what withStatements needs of one. */
interface Client {
  $disconnect(): Promise<void>;
}

/** The pools under the clients made by withStatements. */
const pools = new WeakMap<object, pg.Pool>();

/**
 * A Prisma client on `pool` whose hot-path statements can skip Prisma (see `statement`); its `$disconnect` ends
 * the pool too (Prisma leaves a pool it was given open).
 */
export function withStatements<C extends Client>(client: C, pool: pg.Pool): C {
  pools.set(client, pool);
  const disconnect = client.$disconnect.bind(client);
  let ended: Promise<void> | undefined;
  Object.defineProperty(client, "$disconnect", {
    value: async () => {
      await disconnect();
      ended ??= pool.end();
      await ended;
    },
  });
  return client;
}

/** A pool for `prismaClientOptions` and `withStatements`: a service's one pool of connections. */
export function servicePool(url: string, poolSize = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, options: SESSION_OPTIONS });
  // An idle connection that died (a Postgres restart) leaves the pool, and the next statement opens another;
  // without a listener its error would end the process (Prisma listens only once it has connected).
  pool.on("error", () => undefined);
  return pool;
}

/** The prepared statements' names, by their text. */
const names = new Map<string, string>();

/**
 * Runs ONE statement (atomic on its own) on the pool under `db`, not through Prisma: the same connections, without
 * the query engine's work, which costs more CPU than the statement's own round trip (`pnpm bench statements`: 0.35
 * + 0.22 ms of CPU per statement, caller + Postgres, against 0.83 + 0.98 through Prisma). For the statements a
 * worker or the API runs per message. Each connection prepares a text once, under a name made from it, so Postgres
 * parses and plans it once, not at every run (the long statements of the send path spent two thirds of their time
 * there): the text must not carry values, only `$n` parameters, or each would be prepared anew. The plan is kept
 * until the tables' statistics change (autovacuum), so a text should read its rows by key (`id = ANY(...)`): a plan
 * that joins a scan is cheap on the small table it was made on and not on the large one it is run on later.
 * Rows come back as pg parses them (timestamps as Dates, json as values, int8 and numeric as strings). Throws for
 * a transaction's client: its statements belong on its own connection.
 */
export async function statement<R>(db: object, text: string, values: unknown[] = []): Promise<R[]> {
  const pool = pools.get(db);
  if (!pool) {
    throw new Error("statement() takes a client made by withStatements, not a transaction's");
  }
  let name = names.get(text);
  if (!name) {
    name = `tidings_${createHash("sha256").update(text).digest("hex").slice(0, 32)}`;
    names.set(text, name);
  }
  return (await pool.query({ name, text, values })).rows as R[];
}
