import pg from "pg";
import { DATABASE_SERVER } from "./env.ts";
import { runId } from "./resources.ts";

/** The first key of this package's advisory locks; the second is the run, so parallel runs never wait on each other. */
const LOCKS = 0x71d1;

/**
 * Holds a Postgres advisory lock of this test run until the returned function is called: `shared` with every
 * other shared holder, `exclusive` alone. Test files of one run that share state (a platform stack) use it around
 * the tests that need that state quiet. A waiting exclusive request keeps new shared ones waiting behind it.
 */
export async function holdRunLock(mode: "shared" | "exclusive"): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: `${DATABASE_SERVER}/postgres` });
  await client.connect();
  try {
    const fn = mode === "shared" ? "pg_advisory_lock_shared" : "pg_advisory_lock";
    await client.query(`SELECT ${fn}($1, $2)`, [LOCKS, Number(runId())]);
  } catch (err) {
    await client.end();
    throw err;
  }
  // Closing the session releases the lock.
  return () => client.end();
}
