/**
 * Fuzzing (issue #10): every operation in each service's OpenAPI document is driven with seeded malformed
 * input. No request may answer 5xx, and a rejected request (4xx) must change nothing: a hash of every
 * table of the service's database (outbox included) is the same before and after it.
 *
 * Reproduce a run with `FUZZ_SEED=<seed>`; `FUZZ_CASES_PER_OPERATION` (default 8) bounds its size.
 */
import type { Database, ServiceConfig, ServiceDefinition } from "@tidings/service-kit";
import { adminAuth, startTestService } from "@tidings/testing";
import { describe, expect, it } from "vitest";
import { contentService } from "../../../apps/content/src/service.ts";
import { identityService } from "../../../apps/identity/src/service.ts";
import { messageSenderService } from "../../../apps/message-sender/src/service.ts";
import { schedulerService } from "../../../apps/scheduler/src/service.ts";
import { subscriptionService } from "../../../apps/subscription/src/service.ts";
import { baselineCase, casesFor, describeCase, type FuzzCase, pickCases, prng, repairBody } from "./fuzz.ts";
import { type OpenApiDocument, operationsOf, sample } from "./openapi.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const PER_OPERATION = Number(process.env.FUZZ_CASES_PER_OPERATION ?? 8);
/** Requests spent per operation on finding a body it accepts. */
const BASELINE_TRIES = 4;

/**
 * One statement hashing every table (ordered by its rows' text), so a snapshot costs one round trip.
 * Tables a rejected request may legitimately touch are left out: none so far.
 */
async function snapshotQuery(db: Database): Promise<string> {
  const tables = await db.$queryRawUnsafe<{ name: string }[]>(
    `SELECT table_name AS name FROM information_schema.tables
     WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'
     ORDER BY table_name`,
  );
  return `SELECT json_object_agg(name, hash)::text AS snapshot FROM (${tables
    .map(
      ({ name }) =>
        `SELECT '${name}' AS name, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS hash FROM "${name}" t`,
    )
    .join(" UNION ALL ")}) s`;
}

const changedTables = (before: string, after: string) => {
  const a = JSON.parse(before) as Record<string, string>;
  const b = JSON.parse(after) as Record<string, string>;
  return Object.keys(b).filter((t) => a[t] !== b[t]);
};

// biome-ignore lint/suspicious/noExplicitAny: each service has its own config and database types.
const services: [string, () => ServiceDefinition<any, any>][] = [
  ["identity", () => identityService],
  ["subscription", () => subscriptionService],
  ["content", () => contentService],
  ["scheduler", () => schedulerService()],
  ["message-sender", () => messageSenderService],
];

describe(`fuzzing every operation (FUZZ_SEED=${SEED})`, () => {
  it.each(services)(
    "%s: no 5xx, and rejected requests change nothing",
    async (name, definition) => {
      // No worker: nothing but the requests changes the database between two snapshots.
      const svc = await startTestService<ServiceConfig, Database>(definition());
      try {
        const docs = await svc.app.inject({ method: "GET", url: "/docs/json" });
        expect(docs.statusCode).toBe(200);
        const operations = operationsOf(docs.json() as OpenApiDocument);
        expect(operations.length).toBeGreaterThan(3);
        const query = await snapshotQuery(svc.db);
        const snapshot = async () =>
          (await svc.db.$queryRawUnsafe<[{ snapshot: string }]>(query))[0].snapshot;
        const random = prng(SEED);
        const failures: Record<string, unknown>[] = [];
        const statuses = new Map<number, number>();
        let before = await snapshot();
        /** Sends one case; a 5xx, or a change made by a rejected request, is a failure. */
        const run = async (c: FuzzCase) => {
          const res = await svc.app.inject({
            method: c.method as "GET",
            url: c.url,
            headers: c.headers,
            ...(c.payload === undefined ? {} : { payload: c.payload }),
          });
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          const after = await snapshot();
          if (res.statusCode >= 500) {
            failures.push({ ...describeCase(c), status: res.statusCode, response: res.body.slice(0, 500) });
          } else if (res.statusCode >= 400 && after !== before) {
            failures.push({
              ...describeCase(c),
              status: res.statusCode,
              problem: "a rejected request changed the database",
              tables: changedTables(before, after),
            });
          }
          before = after;
          return res;
        };
        for (const op of operations) {
          // A body the operation accepts, found from its 400s' details (a few tries), to mutate from.
          let body = op.body ? (sample(op.body) as Record<string, unknown>) : undefined;
          for (let round = 0; body && round < BASELINE_TRIES; round++) {
            const res = await run(baselineCase(op, adminAuth, body));
            const fields = res.statusCode === 400 ? (res.json().error?.details ?? []) : [];
            const next = repairBody(
              op,
              body,
              fields.map((d: { field: string }) => d.field),
              round,
            );
            if (!next) {
              break;
            }
            body = next;
          }
          for (const c of pickCases(casesFor(op, adminAuth, body), PER_OPERATION, random)) {
            await run(c);
          }
        }
        const counts = [...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`);
        console.info(`fuzz ${name} (seed ${SEED}): ${operations.length} operations; ${counts.join(", ")}`);
        expect(failures, `service ${name}, FUZZ_SEED=${SEED}`).toEqual([]);
      } finally {
        await svc.close();
      }
    },
    120_000,
  );
});
