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

/** A text's prepared statement: the name its hash gives, and how often this process has run it. */
interface Prepared {
  hash: string;
  runs: number;
}

const texts = new Map<string, Prepared>();

/** The name each connection has a text prepared under, by text. */
const preparedOn = new WeakMap<pg.PoolClient, Map<string, string>>();

/**
 * A text's plan is made again after 64, 128, 256, ... of this process's runs of it: its generation, part of its
 * name. A plan made while a table is nearly empty scans the table (cheaper than an index there) and Postgres keeps
 * it until the table's statistics change, which without autovacuum (or in its first minute) never happens: the
 * pipeline's claim and report read, planned on the first dozen outbounds, read every outbound at every run (101
 * million rows read by 9,110 scans in a 20,000-message run). Doubling keeps the plans in step with a table that
 * grows with the work, at a handful of plannings in a process's life.
 */
const generationOf = (runs: number) => (runs < 64 ? 0 : Math.floor(Math.log2(runs)) - 5);

/**
 * Runs ONE statement (atomic on its own) on the pool under `db`, not through Prisma: the same connections, without
 * the query engine's work, which costs more CPU than the statement's own round trip (`pnpm bench statements`: 0.35
 * + 0.22 ms of CPU per statement, caller + Postgres, against 0.83 + 0.98 through Prisma). For the statements a
 * worker or the API runs per message. Each connection prepares a text once per generation (`generationOf`), under a
 * name made from it, so Postgres parses and plans it once, not at every run (the long statements of the send path
 * spent two thirds of their time there), and deallocates the generation before: the text must not carry values,
 * only `$n` parameters, or each would be prepared anew. A text should read its rows by key (`id = ANY(...)`).
 * Rows come back as pg parses them (timestamps as Dates, json as values, int8 and numeric as strings). Throws for
 * a transaction's client: its statements belong on its own connection.
 */
export async function statement<R>(db: object, text: string, values: unknown[] = []): Promise<R[]> {
  const pool = pools.get(db);
  if (!pool) {
    throw new Error("statement() takes a client made by withStatements, not a transaction's");
  }
  let entry = texts.get(text);
  if (!entry) {
    entry = { hash: createHash("sha256").update(text).digest("hex").slice(0, 32), runs: 0 };
    texts.set(text, entry);
  }
  entry.runs++;
  const name = `tidings_${entry.hash}_${generationOf(entry.runs)}`;
  const client = await pool.connect();
  // A broken connection also emits its error as an event, which must be heard while the client is out of the pool
  // (as pool.query does): the statement's own promise fails with it.
  const heard = () => undefined;
  client.on("error", heard);
  let failed: Error | undefined;
  try {
    let prepared = preparedOn.get(client);
    if (!prepared) {
      prepared = new Map();
      preparedOn.set(client, prepared);
    }
    const before = prepared.get(text);
    if (before !== undefined && before !== name) {
      await client.query(`DEALLOCATE ${before}`);
    }
    const { rows } = await client.query({ name, text, values });
    prepared.set(text, name);
    return rows as R[];
  } catch (err) {
    failed = err as Error;
    throw err;
  } finally {
    client.removeListener("error", heard);
    // As pool.query does: a connection whose statement failed is closed, not handed out again.
    client.release(failed);
  }
}
